import type { ViteUserConfig } from 'vitest/config';
/** The vitest configuration shared by every package. */
export declare function basisVitestConfig(overrides?: { testTimeout?: number; include?: string[] }): ViteUserConfig;
