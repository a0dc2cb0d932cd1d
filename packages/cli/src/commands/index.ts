import type { Command } from '../command.js';
import { benchCommand } from './bench.js';
import { evalCommand } from './eval.js';
import { exportCommand } from './export.js';
import { generateCommand } from './generate.js';
import { mixersCommand } from './mixers.js';
import { profileCommand } from './profile.js';
import { resumeCommand } from './resume.js';
import { tokenizeCommand } from './tokenize.js';
import { trainCommand } from './train.js';
import { workerCommand } from './worker.js';

/** Every command, in the order `shiftmix --help` lists them. */
export const COMMANDS: readonly Command[] = [
  mixersCommand,
  trainCommand,
  resumeCommand,
  generateCommand,
  evalCommand,
  tokenizeCommand,
  exportCommand,
  benchCommand,
  workerCommand,
  profileCommand,
];
