import type { Kysely } from 'kysely';
import type { Database, FoundationTables } from '../../store/index.js';
import type { WorkspaceStore } from '../store.js';
import type { Workspace } from '../workspace.js';

/** Tables the governance context owns. */
export type WorkspaceTables = {
  kiln_workspaces: {
    name: string;
    description: string;
    created_at: string;
    updated_at: string;
  };
};

type WorkspaceRow = WorkspaceTables['kiln_workspaces'];

function toWorkspace(row: WorkspaceRow): Workspace {
  return { name: row.name, description: row.description, createdAt: row.created_at, updatedAt: row.updated_at };
}

/**
 * The {@link WorkspaceStore} for both SQLite and PostgreSQL: the queries use only what both
 * engines share (ON CONFLICT DO NOTHING, RETURNING).
 *
 * @example
 * const service = new WorkspaceService(new KyselyWorkspaceStore(database));
 */
export class KyselyWorkspaceStore implements WorkspaceStore {
  private readonly db: Kysely<FoundationTables & WorkspaceTables>;

  constructor(database: Database) {
    this.db = database.kysely.withTables<WorkspaceTables>();
  }

  async list(limit: number, after?: string): Promise<Workspace[]> {
    let query = this.db.selectFrom('kiln_workspaces').selectAll().orderBy('name').limit(limit);
    if (after !== undefined) query = query.where('name', '>', after);
    const rows = await query.execute();
    return rows.map(toWorkspace);
  }

  async get(name: string): Promise<Workspace | undefined> {
    const row = await this.db.selectFrom('kiln_workspaces').selectAll().where('name', '=', name).executeTakeFirst();
    return row === undefined ? undefined : toWorkspace(row);
  }

  async insert(workspace: Workspace): Promise<boolean> {
    const result = await this.db
      .insertInto('kiln_workspaces')
      .values({
        name: workspace.name,
        description: workspace.description,
        created_at: workspace.createdAt,
        updated_at: workspace.updatedAt,
      })
      .onConflict((conflict) => conflict.column('name').doNothing())
      .executeTakeFirst();
    return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
  }

  async updateDescription(name: string, description: string, updatedAt: string): Promise<Workspace | undefined> {
    const row = await this.db
      .updateTable('kiln_workspaces')
      .set({ description, updated_at: updatedAt })
      .where('name', '=', name)
      .returningAll()
      .executeTakeFirst();
    return row === undefined ? undefined : toWorkspace(row);
  }

  async delete(name: string): Promise<boolean> {
    const result = await this.db.deleteFrom('kiln_workspaces').where('name', '=', name).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }
}
