export { runSuite, defaultResultsRoot, type RunSuiteOptions, type SuiteRunReport } from './runner.js';
export { formatSummary } from './finish.js';
export { checkDataFiles, openSuite, prepareSuite, type PreparedSuite, type SuiteTarget } from './prepare.js';
export { checkSuiteSize, MAX_RUNS, parseShard, planSuite, selectRuns, type PlannedRun, type RunConfig, type Selection, type Shard } from './plan.js';
export { executeRun, type ExecuteContext } from './execute.js';
export { mergeResults, type MergeOptions } from './merge.js';
export { runSuiteOnQueue, type QueueSuiteOptions } from './queue/submit.js';
export { startWorker, type RunningWorker, type StartWorkerOptions } from './queue/worker.js';
export { parseQueueUrl, maskCredentials, PASSWORD_ENV, type QueueAddress } from './queue/address.js';
export { jobIdOf, queueName, QUEUE_PREFIX, type BenchJobData, type BenchJobProgress, type BenchJobResult, type DataRef } from './queue/jobs.js';
export { consoleProgress, formatDuration, formatEvent, type BenchEvent } from './progress.js';
export { loadSuite, readSuiteFile, type LoadSuiteOptions } from './suite/load.js';
export { resolveRecipe, suitePresets, validateSuite } from './suite/validate.js';
export { RECIPE_DEFAULTS, RECIPE_FIELDS, TASK_METRICS } from './suite/recipes.js';
export {
  TASK_NAMES,
  type AnyRecipe,
  type Benchmark,
  type DecodeRecipe,
  type LmCharRecipe,
  type ModelDefinition,
  type MqarRecipe,
  type MqarSetting,
  type ScalingRecipe,
  type Suite,
  type TaskName,
} from './suite/types.js';
export { IGNORE_LABEL, gapProbabilities, generateMqar, type MqarData, type MqarOptions } from './tasks/mqar-data.js';
export { MqarDataset, mqarAccuracy } from './tasks/mqar-dataset.js';
export { TASKS } from './tasks/index.js';
export type { RunOutcome, RunPlan, RunResult, RunTick, Task, TaskContext } from './tasks/types.js';
export { lineChart, escapeXml, type ChartOptions, type ChartSeries } from './svg/chart.js';
export { formatTick, makeScale, type Scale } from './svg/scale.js';
export { writeReport, writeResultsIndex, type BenchmarkReport, type SuiteSummary } from './report/write.js';
export { modelColours } from './report/charts.js';
export { describeEnvironment, type Environment } from './environment.js';
export { configHash, stableStringify } from './hash.js';
