// Copies the dashboard's static files (src/dashboard: HTML, one ES module, CSS) next to the compiled routes in
// dist/, where the server reads them. tsc only emits .ts files, and the page has no build step of its own.
import { cpSync, rmSync } from 'node:fs';

const from = new URL('../src/dashboard/', import.meta.url);
const to = new URL('../dist/dashboard/', import.meta.url);
// Removed first, so a file deleted from src/ does not linger in dist/.
rmSync(to, { recursive: true, force: true });
cpSync(from, to, { recursive: true });
