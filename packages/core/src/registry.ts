import { MIXER_SPECIFICATION_VERSION, type AnyMixerSpec } from './contract.js';
import { ShiftmixError } from './errors.js';

export interface RegisteredMixer {
  spec: AnyMixerSpec;
  /** The package or module the mixer came from, when known ("@shiftmix/mixer-hsm-ab", "./my-mixer.js"). */
  source?: string;
}

const KEBAB_CASE = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
const registry = new Map<string, RegisteredMixer>();

let warn: (message: string) => void = (message) => console.warn(message);

/** Redirects registry warnings (duplicate names); returns the previous handler. */
export function setRegistryWarningHandler(handler: (message: string) => void): (message: string) => void {
  const previous = warn;
  warn = handler;
  return previous;
}

/** Throws the error registerMixer would for a spec it refuses (name, version, missing members). */
export function checkMixerSpec(spec: unknown): asserts spec is AnyMixerSpec {
  if (typeof spec !== 'object' || spec === null) {
    throw new ShiftmixError('registerMixer was given something that is not a mixer spec', 'Pass the object a mixer package exports as its spec');
  }
  const s = spec as Partial<AnyMixerSpec>;
  const label = typeof s.name === 'string' ? `mixer "${s.name}"` : 'a mixer spec';
  if (s.specificationVersion !== MIXER_SPECIFICATION_VERSION) {
    throw new ShiftmixError(
      `${label} declares specificationVersion ${String(s.specificationVersion)}, but this core implements version ${MIXER_SPECIFICATION_VERSION}`,
      `Build the mixer against @shiftmix/core's contract version ${MIXER_SPECIFICATION_VERSION}`,
      'E_SPEC_VERSION',
    );
  }
  if (typeof s.name !== 'string' || !KEBAB_CASE.test(s.name)) {
    throw new ShiftmixError(`${label} has an invalid name`, 'Mixer names are kebab-case, e.g. "my-mixer"', 'E_SPEC_NAME');
  }
  for (const method of ['validate', 'paramCount', 'create'] as const) {
    if (typeof s[method] !== 'function') {
      throw new ShiftmixError(`${label} has no ${method}() function`, 'Implement every member of MixerSpec', 'E_SPEC_SHAPE');
    }
  }
  if (typeof s.shiftBased !== 'boolean') {
    throw new ShiftmixError(`${label} does not say whether it is shift-based`, 'Set shiftBased: true or false', 'E_SPEC_SHAPE');
  }
}

/** Adds a mixer to the registry. A second mixer with the same name replaces the first, with a warning. */
export function registerMixer(spec: AnyMixerSpec, options: { source?: string } = {}): void {
  checkMixerSpec(spec);
  const existing = registry.get(spec.name);
  if (existing && existing.spec !== spec) {
    warn(
      `shiftmix: mixer "${spec.name}" is already registered${existing.source ? ` by ${existing.source}` : ''}; the new registration${options.source ? ` from ${options.source}` : ''} replaces it`,
    );
  }
  registry.set(spec.name, { spec, source: options.source ?? existing?.source });
}

/** Removes a mixer; returns whether it was registered. Mostly for tests. */
export function unregisterMixer(name: string): boolean {
  return registry.delete(name);
}

export function hasMixer(name: string): boolean {
  return registry.has(name);
}

/** The spec registered under `name`; an unknown name is an error that lists what is registered. */
export function getMixer(name: string): AnyMixerSpec {
  const entry = registry.get(name);
  if (!entry) {
    const known = [...registry.keys()].sort();
    throw new ShiftmixError(
      `unknown mixer "${name}"`,
      known.length
        ? `Registered mixers: ${known.join(', ')}. Register it first: call its package's register() or registerMixer(spec)`
        : 'No mixers are registered: import a mixer package and call its register(), or registerMixer(spec) for your own',
      'E_UNKNOWN_MIXER',
    );
  }
  return entry.spec;
}

/** Every registered mixer, sorted by name. */
export function listMixers(): RegisteredMixer[] {
  return [...registry.values()].sort((a, b) => a.spec.name.localeCompare(b.spec.name));
}
