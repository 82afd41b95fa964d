import { randomInt } from 'node:crypto';

const ADJECTIVES = [
  'amber',
  'bold',
  'brave',
  'bright',
  'calm',
  'clever',
  'crisp',
  'curious',
  'daring',
  'eager',
  'gentle',
  'glad',
  'golden',
  'grand',
  'honest',
  'humble',
  'keen',
  'kind',
  'lively',
  'lucky',
  'merry',
  'mellow',
  'nimble',
  'noble',
  'patient',
  'polite',
  'proud',
  'quick',
  'quiet',
  'rapid',
  'silent',
  'sleek',
  'smooth',
  'steady',
  'sunny',
  'swift',
  'tidy',
  'vivid',
  'warm',
  'wise',
];

const NOUNS = [
  'badger',
  'beacon',
  'birch',
  'brook',
  'canyon',
  'cedar',
  'comet',
  'crane',
  'delta',
  'ember',
  'falcon',
  'fern',
  'fjord',
  'forge',
  'glacier',
  'harbor',
  'heron',
  'kiln',
  'lantern',
  'lark',
  'maple',
  'meadow',
  'mesa',
  'otter',
  'owl',
  'pebble',
  'pine',
  'quarry',
  'raven',
  'reef',
  'ridge',
  'river',
  'sparrow',
  'spruce',
  'summit',
  'thistle',
  'tide',
  'valley',
  'willow',
  'wren',
];

/**
 * A readable name for a run created without one, in MLflow's `adjective-noun-number` style, so
 * run lists are scannable by people. Names need not be unique.
 *
 * @example
 * generateRunName(); // 'nimble-heron-274'
 */
export function generateRunName(): string {
  const adjective = ADJECTIVES[randomInt(ADJECTIVES.length)] ?? 'steady';
  const noun = NOUNS[randomInt(NOUNS.length)] ?? 'kiln';
  return `${adjective}-${noun}-${randomInt(1000)}`;
}
