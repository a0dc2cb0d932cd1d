export { main, processIo, VERSION } from './main.js';
export type { Command, CommandContext, Io } from './command.js';
export { COMMANDS } from './commands/index.js';
export { EXIT_ERROR, EXIT_USAGE, formatError, InputError, UsageError } from './errors.js';
export { parseFlags, type FlagSpec, type FlagSpecs, type FlagValues } from './flags.js';
export { loadAllPlugins, type LoadedPlugin, type WarningHandler } from './plugins.js';
