// @shiftmix/core/tooling: what shiftmix's own tools (the CLI, the benchmark suite, the GPU
// and CPU benchmarks) build on beside the main entry: run folders and their locks, metrics
// logs, the steppers under train(), the schema of a model's stack options, the schedules'
// arithmetic and the formats of numbers. A library user trains with the main entry alone.
export { tensorDifference, type TensorDifference } from './compare.js';
export { ParallelStepper, shardRows, type ParallelOptions } from './train/parallel/stepper.js';
export { TrainStepper, type StepperOptions } from './train/stepper.js';
export type { PlanStatus } from './train/plan/planner.js';
export { MetricsLog, parseMetrics } from './train/metrics.js';
export { lockRunDirectory, RunLock, RUN_LOCK_FILE, type RunLockHolder, type RunLockOptions } from './train/run-lock.js';
export { learningRate, validateSchedule, type LrSchedule } from './train/schedule.js';
export { clipByGlobalNorm, clipScale, globalNorm } from './train/clip.js';
export { runTraining, type TrainStart } from './train/trainer.js';
export { resumedRecipe } from './train/resume.js';
export { channelGroups, MAX_SHIFT, radixBase } from './schedule.js';
export {
  allFinite,
  attentionBlockParamCount,
  checkStackOptions,
  ffnParamCount,
  matchedFfnWidth,
  MAX_BLOCKS,
  parseStackOption,
  POSITIONAL_KINDS,
  STACK_OPTIONS,
} from './model/config.js';
export { formatCount, formatDuration, formatProgress, formatRate } from './train/progress.js';
export { decodeTextBytes } from './data/load.js';
export { CHECKPOINT_FORMAT, CHECKPOINT_FORMAT_VERSION, FILES as CHECKPOINT_FILES, type FileRecord } from './checkpoint/format.js';
