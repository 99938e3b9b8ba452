// Checks of the deployment artefacts (deploy/k8s, the Dockerfile, docker-compose.yml), run by the
// tests of this workspace.
export * from './custom-resources';
export * from './environment';
export * from './kustomize';
export * from './manifests';
export * from './netpol';
export * from './schemas';
export * from './workloads';
