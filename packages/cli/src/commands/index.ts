import type { Command } from '../command.js';
import { mixersCommand } from './mixers.js';

/** Every command, in the order `shiftmix --help` lists them. */
export const COMMANDS: readonly Command[] = [mixersCommand];
