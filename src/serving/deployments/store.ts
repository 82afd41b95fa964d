import type { Kysely } from 'kysely';
import { KilnError } from '../../core/index.js';
import { type Database, type FoundationTables, isUniqueViolation } from '../../store/index.js';
import type { DeploymentSpec } from '../types.js';

/** Why a revision exists. */
export type RevisionReason = 'create' | 'update' | 'promote' | 'rollback';

/** One stored spec of a deployment: revision 1 is its creation, each change adds the next. */
export interface DeploymentRevision {
  revision: number;
  spec: DeploymentSpec;
  reason: RevisionReason;
  /** Who made the change. */
  actor: string;
  /** ISO-8601 UTC. */
  createdAt: string;
}

/** A deployment as stored: its current revision with the spec, and when and by whom it was created. */
export interface DeploymentRecord {
  workspace: string;
  name: string;
  current: DeploymentRevision;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}

/** Tables the deployments own. */
export type DeploymentTables = {
  serving_deployments: {
    workspace: string;
    name: string;
    revision: number;
    created_by: string;
    created_at: string;
    updated_at: string;
  };
  serving_deployment_revisions: {
    workspace: string;
    name: string;
    revision: number;
    spec: string;
    reason: string;
    actor: string;
    created_at: string;
  };
};

type RevisionColumns = DeploymentTables['serving_deployment_revisions'];
type JoinedRow = DeploymentTables['serving_deployments'] & {
  spec: string;
  reason: string;
  actor: string;
  revision_created_at: string;
};

function toRevision(row: Pick<RevisionColumns, 'revision' | 'spec' | 'reason' | 'actor' | 'created_at'>) {
  const revision: DeploymentRevision = {
    revision: Number(row.revision),
    spec: JSON.parse(row.spec) as DeploymentSpec,
    reason: row.reason as RevisionReason,
    actor: row.actor,
    createdAt: row.created_at,
  };
  return revision;
}

function toRecord(row: JoinedRow): DeploymentRecord {
  return {
    workspace: row.workspace,
    name: row.name,
    current: toRevision({ ...row, created_at: row.revision_created_at }),
    createdBy: row.created_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function conflict(workspace: string, name: string): KilnError {
  return new KilnError(
    'RESOURCE_CONFLICT',
    `Deployment '${name}' was changed by another request at the same time; read it again and retry`,
    { workspace, name },
  );
}

/**
 * The deployment tables, on SQLite and PostgreSQL alike. A change is one transaction that inserts
 * the next revision and moves the deployment's pointer to it only if the pointer still names the
 * revision the change started from; otherwise RESOURCE_CONFLICT, and nothing is written.
 *
 * @example
 * const store = new DeploymentStore(database);
 * await store.create(spec, 'alice', nowIso());
 * await store.append(spec.workspace, spec.name, 1, changed, 'update', 'alice', nowIso()); // revision 2
 */
export class DeploymentStore {
  private readonly db: Kysely<FoundationTables & DeploymentTables>;

  constructor(private readonly database: Database) {
    this.db = database.kysely.withTables<DeploymentTables>();
  }

  /** Stores a new deployment at revision 1; RESOURCE_ALREADY_EXISTS when the name is taken. */
  async create(spec: DeploymentSpec, actor: string, now: string): Promise<DeploymentRecord> {
    try {
      await this.database.transaction(async (trx) => {
        const tx = trx.withTables<DeploymentTables>();
        await tx
          .insertInto('serving_deployments')
          .values({
            workspace: spec.workspace,
            name: spec.name,
            revision: 1,
            created_by: actor,
            created_at: now,
            updated_at: now,
          })
          .execute();
        await tx
          .insertInto('serving_deployment_revisions')
          .values(revisionRow(spec, 1, 'create', actor, now))
          .execute();
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw alreadyExists(spec.name);
      throw err;
    }
    return {
      workspace: spec.workspace,
      name: spec.name,
      current: { revision: 1, spec, reason: 'create', actor, createdAt: now },
      createdBy: actor,
      createdAt: now,
      updatedAt: now,
    };
  }

  /**
   * Stores `spec` as revision `from + 1` and makes it current, provided the current revision is
   * still `from`; RESOURCE_CONFLICT otherwise (another change won, or the deployment was deleted).
   */
  async append(
    from: DeploymentRecord,
    spec: DeploymentSpec,
    reason: RevisionReason,
    actor: string,
    now: string,
  ): Promise<DeploymentRecord> {
    const revision = from.current.revision + 1;
    try {
      await this.database.transaction(async (trx) => {
        const tx = trx.withTables<DeploymentTables>();
        const moved = await tx
          .updateTable('serving_deployments')
          .set({ revision, updated_at: now })
          .where('workspace', '=', from.workspace)
          .where('name', '=', from.name)
          .where('revision', '=', from.current.revision)
          .executeTakeFirst();
        if (Number(moved.numUpdatedRows) !== 1) throw conflict(from.workspace, from.name);
        await tx
          .insertInto('serving_deployment_revisions')
          .values(revisionRow(spec, revision, reason, actor, now))
          .execute();
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict(from.workspace, from.name);
      throw err;
    }
    return { ...from, current: { revision, spec, reason, actor, createdAt: now }, updatedAt: now };
  }

  async get(workspace: string, name: string): Promise<DeploymentRecord | undefined> {
    const row = await this.joined().where('d.workspace', '=', workspace).where('d.name', '=', name).executeTakeFirst();
    return row === undefined ? undefined : toRecord(row);
  }

  /** A workspace's deployments by name, `limit` at a time, after the name `after`. */
  async list(workspace: string, limit: number, after?: string): Promise<DeploymentRecord[]> {
    let query = this.joined().where('d.workspace', '=', workspace).orderBy('d.name').limit(limit);
    if (after !== undefined) query = query.where('d.name', '>', after);
    return (await query.execute()).map(toRecord);
  }

  /** Deployments of every workspace in (workspace, name) order after `after`: what a starting server restores. */
  async listAll(limit: number, after?: { workspace: string; name: string }): Promise<DeploymentRecord[]> {
    let query = this.joined().orderBy('d.workspace').orderBy('d.name').limit(limit);
    if (after !== undefined) {
      query = query.where((eb) =>
        eb.or([
          eb('d.workspace', '>', after.workspace),
          eb.and([eb('d.workspace', '=', after.workspace), eb('d.name', '>', after.name)]),
        ]),
      );
    }
    return (await query.execute()).map(toRecord);
  }

  async revision(workspace: string, name: string, revision: number): Promise<DeploymentRevision | undefined> {
    const row = await this.db
      .selectFrom('serving_deployment_revisions')
      .select(['revision', 'spec', 'reason', 'actor', 'created_at'])
      .where('workspace', '=', workspace)
      .where('name', '=', name)
      .where('revision', '=', revision)
      .executeTakeFirst();
    return row === undefined ? undefined : toRevision(row);
  }

  /** A deployment's revisions, newest first, `limit` at a time, below revision `before`. */
  async revisions(workspace: string, name: string, limit: number, before?: number): Promise<DeploymentRevision[]> {
    let query = this.db
      .selectFrom('serving_deployment_revisions')
      .select(['revision', 'spec', 'reason', 'actor', 'created_at'])
      .where('workspace', '=', workspace)
      .where('name', '=', name)
      .orderBy('revision', 'desc')
      .limit(limit);
    if (before !== undefined) query = query.where('revision', '<', before);
    return (await query.execute()).map(toRevision);
  }

  /**
   * Deletes a deployment with its history, provided it is still at `revision`; false when it was
   * already gone, RESOURCE_CONFLICT when it changed meanwhile.
   */
  async delete(workspace: string, name: string, revision: number): Promise<boolean> {
    return this.database.transaction(async (trx) => {
      const tx = trx.withTables<DeploymentTables>();
      const deleted = await tx
        .deleteFrom('serving_deployments')
        .where('workspace', '=', workspace)
        .where('name', '=', name)
        .where('revision', '=', revision)
        .executeTakeFirst();
      if (Number(deleted.numDeletedRows) !== 1) {
        const still = await tx
          .selectFrom('serving_deployments')
          .select('revision')
          .where('workspace', '=', workspace)
          .where('name', '=', name)
          .executeTakeFirst();
        if (still !== undefined) throw conflict(workspace, name);
        return false;
      }
      await tx
        .deleteFrom('serving_deployment_revisions')
        .where('workspace', '=', workspace)
        .where('name', '=', name)
        .execute();
      return true;
    });
  }

  private joined() {
    return this.db
      .selectFrom('serving_deployments as d')
      .innerJoin('serving_deployment_revisions as r', (join) =>
        join
          .onRef('r.workspace', '=', 'd.workspace')
          .onRef('r.name', '=', 'd.name')
          .onRef('r.revision', '=', 'd.revision'),
      )
      .select([
        'd.workspace',
        'd.name',
        'd.revision',
        'd.created_by',
        'd.created_at',
        'd.updated_at',
        'r.spec',
        'r.reason',
        'r.actor',
        'r.created_at as revision_created_at',
      ]);
  }
}

function revisionRow(spec: DeploymentSpec, revision: number, reason: RevisionReason, actor: string, now: string) {
  return {
    workspace: spec.workspace,
    name: spec.name,
    revision,
    spec: JSON.stringify(spec),
    reason,
    actor,
    created_at: now,
  };
}

/** The error for a deployment name already taken in the workspace. */
export function alreadyExists(name: string): KilnError {
  return new KilnError('RESOURCE_ALREADY_EXISTS', `Deployment '${name}' already exists; update it instead`, { name });
}
