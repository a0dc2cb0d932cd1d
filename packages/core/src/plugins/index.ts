export { CONFIG_FILE, discoverMixers, readConfigPlugins, type DiscoveredMixerModule, type DiscoverOptions, type MixerSource } from './discover.js';
export { findInstalledPlugins, linkedPackageCause } from './installed.js';
export {
  importable,
  importMixerFile,
  loadMixerPlugin,
  loadMixerPlugins,
  registerShippedMixers,
  SHIPPED_MIXERS,
  type LoadedMixerModule,
  type PackageImporter,
  type ShippedMixerName,
} from './load.js';
export { mixerSpecsOf, registerMixerModule } from './module.js';
export { packageEntry, readPackageJson, resolveExports, resolvePlugin } from './resolve.js';
