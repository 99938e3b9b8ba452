import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SERVICES } from '@park/testing';
import { deployedNodeOptions } from './deployed-settings';

it("reads every service's heap limit from its ConfigMap", () => {
  for (const service of SERVICES) {
    expect(deployedNodeOptions(service)).toMatch(/--max-old-space-size=\d+/);
  }
  // deploy/k8s/base/metering/configmap.yaml gives metering 768 MB of heap.
  expect(deployedNodeOptions('metering')).toContain('--max-old-space-size=768');
});

it('names the file when a ConfigMap has no heap limit', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'deployed-settings-'));
  const dir = path.join(root, 'deploy', 'k8s', 'base', 'carbon');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'configmap.yaml'), 'data:\n  NODE_OPTIONS: --enable-source-maps\n');
  expect(() => deployedNodeOptions('carbon', root)).toThrow(
    /carbon.configmap\.yaml: data\.NODE_OPTIONS with --max-old-space-size is missing/,
  );
});
