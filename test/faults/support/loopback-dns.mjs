// Preloaded (`node --import`) into the API and worker processes the fault suite starts: every DNS
// lookup except `localhost` and IP literals fails with ENOTFOUND, so fuzzed destination host names
// are refused without a single query leaving the machine.
import dns from 'node:dns';
import dnsPromises from 'node:dns/promises';
import { syncBuiltinESMExports } from 'node:module';
import { isIP } from 'node:net';

const LOCAL = new Map([['localhost', [{ address: '127.0.0.1', family: 4 }]]]);

function answer(hostname, options) {
  const family = isIP(String(hostname));
  const addresses = family !== 0 ? [{ address: String(hostname), family }] : LOCAL.get(String(hostname).toLowerCase());
  if (!addresses) {
    const error = new Error(`getaddrinfo ENOTFOUND ${hostname} (fault suite: DNS is loopback-only)`);
    error.code = 'ENOTFOUND';
    error.hostname = hostname;
    throw error;
  }
  const all = typeof options === 'object' && options !== null && options.all;
  return all ? addresses : addresses[0];
}

async function lookupPromise(hostname, options) {
  return answer(hostname, options);
}

function lookupCallback(hostname, options, callback) {
  const done = typeof options === 'function' ? options : callback;
  const opts = typeof options === 'function' ? {} : options;
  process.nextTick(() => {
    try {
      const result = answer(hostname, opts);
      if (Array.isArray(result)) done(null, result);
      else done(null, result.address, result.family);
    } catch (error) {
      done(error);
    }
  });
}

dnsPromises.lookup = lookupPromise;
dns.promises.lookup = lookupPromise;
dns.lookup = lookupCallback;
syncBuiltinESMExports();
