#!/usr/bin/env node
// npm links a package's command when it installs the package. In a fresh clone of the
// repository that happens before the build, and npm links no command whose file is
// missing, so the command is this file, which exists from the start and loads the build.
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/bin.js', import.meta.url);
try {
  await import(entry.href);
} catch (error) {
  const missing = error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes(fileURLToPath(entry));
  if (!missing) throw error;
  process.stderr.write(`shiftmix: ${fileURLToPath(entry)} is not built. Run npm run build (or npm start) in the repository first\n`);
  process.exitCode = 1;
}
