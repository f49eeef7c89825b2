/**
 * Types this folder shares with the kernel. An image's files reach the kernel as ImageFile
 * (absolute guest paths); the kernel's vfs defines the shape, so there is one definition.
 */
export type { ImageFile } from '../kernel/vfs/index.ts';
