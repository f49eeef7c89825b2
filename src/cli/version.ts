/** nanovisor's version (kept equal to package.json's; `nanovisor --version`, `GET /healthz`). */
export const VERSION = '0.1.0';
