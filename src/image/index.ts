/**
 * Sealed images: the manifest (`nanovisor.json`), build-time module checks, the
 * content-addressed OCI store, and `buildImage`. This file is the folder's whole public
 * surface; see docs/images.md and docs/manifest.md.
 *
 * @example
 * import { ImageStore, buildImage, storeHome } from '../image/index.ts';
 * const store = ImageStore.openHome(storeHome(flagStore, io.env, io.cwd));
 * buildImage({ dir: 'examples/hello-c', store });
 * const { manifest, module, files } = store.load('hello-c');
 */
export { buildImage, buildImageAsync, needsServerTools, collectFiles, MANIFEST_FILE, type AsyncBuildResult, type BuildOptions, type BuildResult } from './build.ts';
export {
  DEFAULT_LIMITS, NAME_PATTERN, manifestTag, parseManifest, parseManifestText,
  type Manifest, type ManifestInput, type ManifestProblem,
} from './manifest.ts';
export { checkModule, type CheckOptions, type ModuleExport, type ModuleImport, type ModuleInfo } from './module-check.ts';
export { MEDIA_TYPE, normalizeTag } from './oci.ts';
export {
  ImageStore, storeHome, RESERVED_TAG_PREFIX, isReservedTag,
  type ImageContent, type ImageDetails, type ImageSummary, type LayerInfo, type LoadedImage, type PutResult, type RemoveResult,
} from './store.ts';
export type { ImageFile } from './types.ts';
export { loadRunnable, loadRunnableAsync, prepareImage, type RunnableImage } from './runnable.ts';
