import { decodeTask } from './decode.js';
import { lmBpeTask } from './lm-bpe.js';
import { lmCharTask } from './lm-char.js';
import { mqarTask } from './mqar.js';
import { scalingTask } from './scaling.js';
import type { Task } from './types.js';

/** The tasks this package ships, registered from the start in this order (the order errors list them in). */
export const BUILT_IN_TASKS: readonly Task[] = [lmCharTask, lmBpeTask, mqarTask, scalingTask, decodeTask];
