import { ShiftmixError } from '@shiftmix/core';
import type { MetricSpec } from '../report/format.js';
import { BUILT_IN_TASKS } from './index.js';
import type { Task } from './types.js';

const NAME = /^[a-z0-9][a-z0-9._-]*$/;
const registry = new Map<string, Task>();

/** Refuses an object that cannot serve as a task, naming what it lacks. */
function checkTask(task: Task): void {
  const label = `task ${JSON.stringify(task?.name)}`;
  const bad = (problem: string, fix: string): never => {
    throw new ShiftmixError(`${label} ${problem}`, fix, 'E_TASK');
  };
  if (typeof task?.name !== 'string' || !NAME.test(task.name))
    bad('has no valid name', 'Name it in lowercase letters, digits, ".", "_" and "-", e.g. "my-task"');
  if (typeof task.plan !== 'function' || typeof task.run !== 'function') bad('needs plan() and run()', 'Implement every required member of Task');
  const fields = task.recipe?.fields as Record<string, unknown> | undefined;
  if (typeof fields !== 'object' || typeof task.recipe.defaults !== 'object')
    bad('needs recipe.fields and recipe.defaults', 'Give each recipe field its check and its default');
  for (const key of Object.keys(task.recipe.defaults)) if (!fields![key]) bad(`has a default for "${key}" but no field`, `Add "${key}" to recipe.fields`);
  if (!Array.isArray(task.metrics) || task.metrics.length === 0) bad('names no metrics', 'List the metrics its runs report');
  if (task.headline && !task.metrics.some((m) => m.name === task.headline!.metric))
    bad(`has the headline "${task.headline.metric}", which is not one of its metrics`, 'Name one of its metrics');
}

/**
 * Adds a task: suites may then name it in a benchmark's "task". Registering the same object
 * again does nothing; another task under a name already taken is an error.
 */
export function registerTask(task: Task): void {
  checkTask(task);
  const existing = registry.get(task.name);
  if (existing && existing !== task) {
    throw new ShiftmixError(`a task named "${task.name}" is registered already`, 'Give your task another name, or unregisterTask() the other first', 'E_TASK');
  }
  registry.set(task.name, task);
}

/** Removes a task; returns whether it was registered. Mostly for tests. */
export function unregisterTask(name: string): boolean {
  return registry.delete(name);
}

export function hasTask(name: string): boolean {
  return registry.has(name);
}

/** The task registered under `name`; an unknown name is an error that lists the registered ones. */
export function getTask(name: string): Task {
  const task = registry.get(name);
  if (!task) throw new ShiftmixError(`unknown task "${name}"`, `Registered tasks: ${taskNames().join(', ')}`, 'E_UNKNOWN_TASK');
  return task;
}

/** Every registered task, in the order registered (the shipped ones first). */
export function listTasks(): Task[] {
  return [...registry.values()];
}

export const taskNames = (): string[] => [...registry.keys()];

/** How a registered task describes one of its metrics; undefined for a task or metric not known here. */
export function findMetric(task: string, metric: string): MetricSpec | undefined {
  return registry.get(task)?.metrics.find((m) => m.name === metric);
}

for (const task of BUILT_IN_TASKS) registerTask(task);
