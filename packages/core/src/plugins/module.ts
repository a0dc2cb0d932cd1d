import type { AnyMixerSpec } from '../contract.js';
import { isShiftmixError, ShiftmixError } from '../errors.js';
import { listMixers, registerMixer } from '../registry.js';

export function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0].replace(/[.\s]+$/, '');
}

function snapshot(): Map<string, AnyMixerSpec> {
  return new Map(listMixers().map((m) => [m.spec.name, m.spec]));
}

// Loose on purpose: registerMixer checks the rest and names what is missing.
function isSpecLike(value: unknown): value is AnyMixerSpec {
  if (typeof value !== 'object' || value === null) return false;
  return 'specificationVersion' in value || ('name' in value && 'create' in value);
}

/**
 * The mixer specs a module exports: `default`, `spec`, `specs` and every `*Spec` export,
 * each a spec or an array of specs. A CommonJS module's exports arrive as `default`.
 */
export function mixerSpecsOf(mod: Record<string, unknown>): AnyMixerSpec[] {
  const found: AnyMixerSpec[] = [];
  const add = (value: unknown): void => {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (isSpecLike(item) && !found.includes(item)) found.push(item);
    }
  };
  for (const [key, value] of Object.entries(mod)) {
    if (key === 'default' || key === 'spec' || key === 'specs' || /Spec$/.test(key)) add(value);
  }
  const inner = mod.default;
  if (!found.length && typeof inner === 'object' && inner !== null && !Array.isArray(inner) && !isSpecLike(inner)) {
    return mixerSpecsOf(inner as Record<string, unknown>);
  }
  return found;
}

function findRegister(mod: Record<string, unknown>): (() => unknown) | undefined {
  if (typeof mod.register === 'function') return mod.register as () => unknown;
  if (typeof mod.default === 'function') return mod.default as () => unknown;
  const inner = mod.default;
  if (typeof inner === 'object' && inner !== null && typeof (inner as Record<string, unknown>).register === 'function') {
    return (inner as Record<string, () => unknown>).register;
  }
  return undefined;
}

/**
 * Registers what one imported module provides and returns the mixer names it added or
 * replaced. Exported specs are registered directly, which works even when the module
 * resolves its own copy of @shiftmix/core; a module without specs has its register() run.
 * `source` is recorded in the registry, so that worker threads can load the same module.
 */
export async function registerMixerModule(mod: Record<string, unknown>, source: string): Promise<string[]> {
  const specs = mixerSpecsOf(mod);
  if (specs.length) {
    for (const spec of specs) {
      try {
        registerMixer(spec, { source });
      } catch (error) {
        if (isShiftmixError(error)) throw new ShiftmixError(`plugin "${source}": ${error.problem}`, error.fix, 'E_PLUGIN');
        throw new ShiftmixError(
          `plugin "${source}" exports a mixer the registry rejects: ${firstLine(error)}`,
          'Check the spec against the MixerSpec contract',
          'E_PLUGIN',
        );
      }
    }
    return specs.map((s) => s.name);
  }
  const register = findRegister(mod);
  if (!register) {
    throw new ShiftmixError(
      `plugin "${source}" exports no mixer`,
      'Export a MixerSpec (as default, spec or fooSpec), an array of specs, or a register() function',
      'E_PLUGIN',
    );
  }
  const before = snapshot();
  try {
    await register();
  } catch (error) {
    const detail = isShiftmixError(error) ? `${error.problem}. ${error.fix}` : firstLine(error);
    throw new ShiftmixError(`plugin "${source}" failed in register(): ${detail}`, 'Fix the plugin, or leave it out', 'E_PLUGIN');
  }
  const added = [...snapshot()].filter(([name, spec]) => before.get(name) !== spec).map(([name]) => name);
  if (!added.length) {
    throw new ShiftmixError(
      `plugin "${source}" ran register() but no mixer appeared in the registry`,
      'Export the spec itself (export const spec = ...), or make @shiftmix/core a peer dependency of the plugin so both use one registry',
      'E_PLUGIN',
    );
  }
  // Registering the same spec again only records where it came from.
  for (const name of added) registerMixer(snapshot().get(name)!, { source });
  return added;
}
