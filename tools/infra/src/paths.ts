import * as path from 'node:path';

/** The repository's root folder (this file is tools/infra/src or tools/infra/dist). */
export const repoRoot = path.resolve(__dirname, '..', '..', '..');

/** Ignored work folder for downloaded jars, broker data and logs. */
export const workDir = process.env.PARK_WORK_DIR ?? path.join(repoRoot, '.work');
