/**
 * Packaging: a Dockerfile for a `kiln serve` image, and Kubernetes manifests (Deployment, Service,
 * HorizontalPodAutoscaler) or a KServe InferenceService that run it. The serve endpoints the
 * packages probe are constants here, so `kiln serve` and its health checks stay in step.
 */
export { dockerfile, dockerignore, NATIVE_BUILD_PACKAGES, NODE_BASE_IMAGE } from './dockerfile.js';
export {
  KILN_ANNOTATION_PREFIX,
  type KubernetesObject,
  type KubernetesObjects,
  kserveInferenceService,
  kserveInferenceServiceObject,
  kubernetesManifests,
  kubernetesObjects,
  manifestHeader,
  STARTUP_BUDGET_SECONDS,
  toYamlDocuments,
} from './kubernetes.js';
export {
  checkDnsLabel,
  checkServeModelRef,
  DEFAULT_SERVE_IMAGE,
  type PackageInput,
  type PackageOptions,
  packageInputFromDeployment,
  resolvePackageOptions,
  SERVE_DEFAULT_PORT,
  SERVE_KILN_HOME,
  SERVE_OPTIONAL_SECRET_VARIABLES,
  SERVE_PATHS,
  SERVE_SECRET_VARIABLES,
  SERVE_USER,
  type ServeSource,
  serveArgs,
} from './options.js';
