import { learnFlightsBenchmark } from './learn-flights.js';
const r = await learnFlightsBenchmark.run({ rounds: 1 } as never);
console.log(JSON.stringify(r));
