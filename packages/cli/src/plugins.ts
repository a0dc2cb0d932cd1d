import { discoverMixers, type DiscoveredMixerModule } from '@shiftmix/core/plugins';
import type { Io } from './command.js';

/** A module whose mixers the CLI registered, and where it came from (`via`). */
export type LoadedPlugin = DiscoveredMixerModule;

/** Where warnings go; the CLI's commands pass their stderr. */
export type WarningHandler = (message: string) => void;

/** Warnings as the CLI prints them, on the command's stderr. */
export function warnOn(io: Pick<Io, 'stderr'>): WarningHandler {
  return (message) => io.stderr(`shiftmix: warning: ${message}\n`);
}

const toStderr = warnOn({ stderr: (text) => void process.stderr.write(text) });

/**
 * Registers every mixer the CLI can see (core's discoverMixers: shipped, installed
 * packages, shiftmix.config.json, then --plugin flags). The shipped packages are imported
 * from here: the CLI depends on them.
 */
export function loadAllPlugins(cwd: string, flagPlugins: readonly string[], onWarning: WarningHandler = toStderr): Promise<LoadedPlugin[]> {
  return discoverMixers({ cwd, plugins: flagPlugins, onWarning, importPackage: (name) => import(name) });
}
