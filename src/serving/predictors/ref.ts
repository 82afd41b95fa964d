import { fileURLToPath } from 'node:url';
import { invalidParameter } from '../../core/index.js';
import { checkAlias, checkModelName } from '../../registry/index.js';
import type { ModelRef } from '../types.js';

const VERSION = /^[1-9]\d{0,15}$/;
const CONTROL = /\p{Cc}/u;
/** A URI scheme followed by a slash (`runs:/`, `s3://`); a bare `name:` may be a file name. */
const URI_LIKE = /^[A-Za-z][A-Za-z0-9+.-]*:\//;
const MOVING = ['latest', 'none', 'staging', 'production', 'archived'];

/**
 * Reads what a user names a model by: `models:/name/3` (a registered version),
 * `models:/name@champion` (an alias, followed when it moves), `file:///abs/path`, or any other text
 * as a file-system path (a model file or a package directory). Names and aliases go through the
 * registry's own rules, so a reference that parses here can be looked up there. Bad input is a 400
 * naming `field`.
 *
 * @example
 * parseModelRef('models:/churn/3');          // { kind: 'version', name: 'churn', version: 3 }
 * parseModelRef('models:/churn@champion');   // { kind: 'alias', name: 'churn', alias: 'champion' }
 * parseModelRef('./model.onnx');             // { kind: 'path', path: './model.onnx' }
 * parseModelRef('models:/churn/latest', 'targets[0].model'); // throws naming targets[0].model
 */
export function parseModelRef(text: string, field = 'model'): ModelRef {
  if (typeof text !== 'string' || text.length === 0) {
    throw invalidParameter(
      field,
      'must be a non-empty string: models:/<name>/<version>, models:/<name>@<alias> or a path',
    );
  }
  if (CONTROL.test(text)) throw invalidParameter(field, 'must not contain control characters');
  if (text.slice(0, 'models:'.length).toLowerCase() === 'models:') return registryRef(text, field);
  if (text.slice(0, 'file:'.length).toLowerCase() === 'file:') {
    let path: string;
    try {
      path = fileURLToPath(text);
    } catch (error) {
      throw invalidParameter(field, `is not a valid file: URL (${(error as Error).message})`, text);
    }
    return { kind: 'path', path };
  }
  if (URI_LIKE.test(text)) {
    throw invalidParameter(
      field,
      `'${text.slice(0, text.indexOf(':'))}:' references are not served; use models:/<name>/<version>, models:/<name>@<alias> or a file path`,
      text,
    );
  }
  return { kind: 'path', path: text };
}

function registryRef(text: string, field: string): ModelRef {
  const form = 'must have the form models:/<name>/<version> or models:/<name>@<alias>';
  const rest = text.slice('models:'.length);
  if (!rest.startsWith('/') || rest.startsWith('//')) throw invalidParameter(field, form, text);
  const body = rest.slice(1);
  const at = body.indexOf('@');
  if (at >= 0) {
    const name = checkModelName(field, body.slice(0, at));
    const alias = checkAlias(body.slice(at + 1), field);
    return { kind: 'alias', name, alias };
  }
  const slash = body.lastIndexOf('/');
  if (slash < 0) throw invalidParameter(field, form, text);
  const name = checkModelName(field, body.slice(0, slash));
  const written = body.slice(slash + 1);
  if (MOVING.includes(written.toLowerCase())) {
    throw invalidParameter(
      field,
      `'${written}' moves without notice; name a version number or an alias (models:/${name}@champion)`,
      text,
    );
  }
  if (!VERSION.test(written)) throw invalidParameter(field, `version '${written}' must be a whole number ≥ 1`, text);
  return { kind: 'version', name, version: Number(written) };
}

/**
 * The text form of a reference, the inverse of {@link parseModelRef}: what status pages, logs and
 * metric labels show.
 *
 * @example
 * formatModelRef({ kind: 'alias', name: 'churn', alias: 'champion' }); // 'models:/churn@champion'
 */
export function formatModelRef(ref: ModelRef): string {
  switch (ref.kind) {
    case 'version':
      return `models:/${ref.name}/${ref.version}`;
    case 'alias':
      return `models:/${ref.name}@${ref.alias}`;
    case 'path':
      return ref.path;
  }
}
