/**
 * The storage switch: volumes, host directories a guest reaches only through the kernel's
 * host mounts (src/kernel/vfs/hostfs.ts, whose confinement every volume mount reuses).
 * The control plane keeps their records (src/control/volumes.ts); this folder holds what
 * the host side needs to know about their contents. See docs/volumes.md.
 */
export { isEmptyDir, measureUsage, type VolumeUsage } from './usage.ts';
