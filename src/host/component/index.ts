/**
 * WASI 0.2 components as Nano-VMs: detection, the canonical ABI through jco, preparation.
 * This file is the folder's whole public surface.
 */
export { componentVersion, isComponent } from './detect.ts';
export { HTTP_INTERFACES, componentKey, prepareComponent, unknownImports, type ComponentSuspension, type ComponentWorld, type PreparedComponent } from './prepare.ts';
export { componentToolsLoaded, loadComponentTools, transpileComponent, type Transpiled } from './transpile.ts';
