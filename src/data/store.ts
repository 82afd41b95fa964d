import type { Dataset, DatasetProfile, DatasetVersion } from './model.js';

/**
 * What {@link DatasetService} needs from the metadata database. Versions are numbered by the
 * store inside one transaction so two concurrent ingests never get the same number.
 */
export interface DatasetStore {
  /** Inserts the dataset; resolves false when the workspace already has one of that name. */
  insertDataset(dataset: Dataset): Promise<boolean>;
  getDataset(workspace: string, name: string): Promise<Dataset | undefined>;
  /** Datasets of a workspace in name order, after the `after` name. */
  listDatasets(workspace: string, limit: number, after?: string): Promise<Dataset[]>;
  /** Inserts a version (and its profile, if any) numbered one past the dataset's last, and returns it. */
  appendVersion(version: Omit<DatasetVersion, 'version'>, profile?: DatasetProfile): Promise<DatasetVersion>;
  /** The stored profile; undefined when the version does not exist or predates profiles. */
  getProfile(dataset: Dataset, version: number): Promise<DatasetProfile | undefined>;
  getVersion(dataset: Dataset, version: number): Promise<DatasetVersion | undefined>;
  /** Versions in ascending number order. */
  listVersions(dataset: Dataset): Promise<DatasetVersion[]>;
  /** How many versions anywhere refer to this blob key; decides whether a blob may be deleted. */
  countBlobReferences(blobKey: string): Promise<number>;
}
