// Builds the dashboard's page (services/reporting/web) with esbuild: one script, one stylesheet and
// index.html, into dist/web, which the service serves under /dashboard/. `npm run build` runs it
// after tsc -b (`node dist/dashboard/bundle.js`); the browser test builds into a folder of its own.
import * as path from 'node:path';
import * as esbuild from 'esbuild';
import { dashboardAssetsDir } from '../app';

/** The page's sources. */
export const dashboardSourceDir = path.resolve(__dirname, '..', '..', 'web');

export async function buildDashboard(outdir: string = dashboardAssetsDir): Promise<string[]> {
  const result = await esbuild.build({
    entryPoints: [
      path.join(dashboardSourceDir, 'src', 'main.ts'),
      path.join(dashboardSourceDir, 'index.html'),
    ],
    outdir,
    entryNames: '[name]',
    bundle: true,
    // index.html is copied as it is; it loads main.js and main.css (imported by main.ts).
    loader: { '.html': 'copy' },
    format: 'iife',
    platform: 'browser',
    target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
    minify: true,
    sourcemap: 'linked',
    legalComments: 'linked',
    metafile: true,
    logLevel: 'warning',
  });
  return Object.keys(result.metafile.outputs).map((file) => path.relative(process.cwd(), file));
}

if (require.main === module) {
  const started = Date.now();
  buildDashboard().then(
    (files) => {
      process.stdout.write(
        `dashboard bundle: ${files.filter((f) => !f.endsWith('.map')).join(', ')} (${Date.now() - started} ms)\n`,
      );
    },
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
