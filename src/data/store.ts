import type {
  Dataset,
  DatasetProfile,
  DatasetVersion,
  DerivedVersion,
  SuiteAttachment,
  SuiteVersion,
  VersionInput,
} from './model.js';

/** A version about to be recorded: everything but its number, which the store assigns. */
export interface NewVersion extends Omit<DatasetVersion, 'version' | 'inputs'> {
  profile?: DatasetProfile;
  /** Lineage edges, each carrying the input dataset's id. */
  inputs: (VersionInput & { datasetId: string })[];
}

/**
 * What {@link DatasetService} needs from the metadata database. Versions (of datasets and of suites)
 * are numbered by the store inside one transaction so two concurrent writers never get the same number.
 */
export interface DatasetStore {
  /** Inserts the dataset; resolves false when the workspace already has one of that name. */
  insertDataset(dataset: Dataset): Promise<boolean>;
  getDataset(workspace: string, name: string): Promise<Dataset | undefined>;
  /** Datasets of a workspace in name order, after the `after` name. */
  listDatasets(workspace: string, limit: number, after?: string): Promise<Dataset[]>;
  /** Replaces the description and tags; resolves the updated dataset. */
  updateDataset(dataset: Dataset, changes: Pick<Dataset, 'description' | 'tags' | 'updatedAt'>): Promise<Dataset>;
  /** Attaches (or, with undefined, detaches) a suite; resolves the updated dataset. */
  setSuite(dataset: Dataset, suite: SuiteAttachment | undefined, updatedAt: string): Promise<Dataset>;
  /** Inserts a version (its profile and lineage edges too) numbered one past the dataset's last, and returns it. */
  appendVersion(version: NewVersion): Promise<DatasetVersion>;
  /** The stored profile; undefined when the version does not exist or predates profiles. */
  getProfile(dataset: Dataset, version: number): Promise<DatasetProfile | undefined>;
  getVersion(dataset: Dataset, version: number): Promise<DatasetVersion | undefined>;
  /** Versions in ascending number order. */
  listVersions(dataset: Dataset): Promise<DatasetVersion[]>;
  /** Versions recorded with this version among their inputs. */
  listDerived(dataset: Dataset, version: number): Promise<DerivedVersion[]>;
  /** How many versions anywhere refer to this blob key; decides whether a blob may be deleted. */
  countBlobReferences(blobKey: string): Promise<number>;
  /** Saves the next version of a suite (numbered one past its last) and returns it. */
  appendSuiteVersion(suite: Omit<SuiteVersion, 'version'>): Promise<SuiteVersion>;
  /** A suite version, or its latest when `version` is undefined. */
  getSuite(workspace: string, name: string, version?: number): Promise<SuiteVersion | undefined>;
  /** The latest version of each suite of a workspace, in name order. */
  listSuites(workspace: string): Promise<SuiteVersion[]>;
}
