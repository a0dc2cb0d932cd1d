import type { TaskName } from '../suite/types.js';
import { decodeTask } from './decode.js';
import { lmCharTask } from './lm-char.js';
import { mqarTask } from './mqar.js';
import { scalingTask } from './scaling.js';
import type { Task } from './types.js';

export const TASKS: Record<TaskName, Task> = {
  'lm-char': lmCharTask,
  mqar: mqarTask,
  scaling: scalingTask,
  decode: decodeTask,
};
