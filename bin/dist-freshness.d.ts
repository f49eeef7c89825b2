// Types of bin/dist-freshness.js (plain JavaScript: the launcher runs it before any build).
export declare const STAMP: string;
export declare function newestSourceMtime(dir: string): number;
export declare function takeStamp(root: string): string;
export declare function distIsCurrent(root: string): boolean;
