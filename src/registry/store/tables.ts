/**
 * Tables the registry owns. Versions, tags and aliases reference a model by its immutable `id`,
 * so renaming a model touches one row and everything follows. Timestamps of models and versions
 * are epoch milliseconds (bigint), as the MLflow wire carries them; event times are ISO-8601 text
 * like the rest of Kiln. Booleans are 0/1 integers on both engines.
 */
export type RegistryTables = {
  registered_models: {
    id: string;
    workspace: string;
    name: string;
    description: string;
    creation_timestamp: number;
    last_updated_timestamp: number;
    /** The highest version number ever allocated; the next version is this plus one. */
    last_version: number;
  };
  registered_model_tags: { model_id: string; key: string; value: string };
  model_versions: {
    model_id: string;
    version: number;
    source: string;
    run_id: string | null;
    run_link: string;
    status: string;
    status_message: string;
    description: string;
    user_id: string;
    current_stage: string;
    /** ModelSignature as JSON text. */
    signature: string | null;
    creation_timestamp: number;
    last_updated_timestamp: number;
    /** 1 once deleted: the row stays so the number is never reused, but no read returns it. */
    deleted: number;
  };
  model_version_tags: { model_id: string; version: number; key: string; value: string };
  registered_model_aliases: { model_id: string; alias: string; version: number };
  registry_events: {
    id: number;
    workspace: string;
    type: string;
    model: string;
    model_id: string;
    version: number | null;
    alias: string | null;
    /** JSON object text. */
    payload: string;
    actor: string;
    request_id: string;
    created_at: string;
  };
  /** One row: the last event id handed out (see `appendEvents`). */
  registry_event_sequence: { name: string; last_id: number };
};

/** The one row of `registry_event_sequence`. */
export const EVENT_SEQUENCE = 'registry_events';
