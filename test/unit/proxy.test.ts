import { describe, expect, it } from 'vitest';
import { proxyFor } from '../../src/client/proxy';

// Which server URLs go through HTTP_PROXY, as curl reads NO_PROXY: IPv6 hosts with or without
// brackets, a host's trailing dot, IP addresses matched whole (never as a domain suffix), and an
// empty lowercase variable not hiding the uppercase one, and address ranges (CIDR).
const P = { HTTP_PROXY: 'http://proxy.example:3128' };

describe('NO_PROXY', () => {
  it.each([
    ['http://[::1]:22510', { NO_PROXY: '::1' }, false],
    ['http://[::1]:22510', { NO_PROXY: '[::1]:22510' }, false],
    ['http://[::1]:22510', { NO_PROXY: '[::1]:1' }, true],
    ['http://127.0.0.1:22510', { no_proxy: '', NO_PROXY: '127.0.0.1' }, false],
    ['http://127.0.0.1:22510', { no_proxy: '10.0.0.1', NO_PROXY: '127.0.0.1' }, true],
    ['http://10.0.0.1', { NO_PROXY: '0.1' }, true],
    ['http://127.0.0.1', { NO_PROXY: '.0.0.1' }, true],
    ['http://rd.example.com', { NO_PROXY: 'example.com' }, false],
    ['http://rd.example.com.', { NO_PROXY: 'example.com' }, false],
    ['http://rd.example.com', { NO_PROXY: 'example.com.' }, false],
    ['http://rdexample.com', { NO_PROXY: 'example.com' }, true],
    ['http://rd.example.com:8080', { NO_PROXY: 'example.com:8080' }, false],
    ['http://rd.example.com:8080', { NO_PROXY: 'example.com:80' }, true],
    ['http://localhost:21114', { NO_PROXY: 'localhost, .internal' }, false],
    ['http://localhost:21114', { NO_PROXY: '*' }, false],
    ['http://10.1.2.3:21114', { NO_PROXY: '10.0.0.0/8' }, false],
    ['http://11.1.2.3:21114', { NO_PROXY: '10.0.0.0/8' }, true],
    ['http://192.168.7.9', { NO_PROXY: 'localhost,192.168.0.0/16' }, false],
    ['http://192.169.0.1', { NO_PROXY: '192.168.0.0/16' }, true],
    ['http://10.0.0.5', { NO_PROXY: '10.0.0.5/32' }, false],
    ['http://10.0.0.6', { NO_PROXY: '10.0.0.5/32' }, true],
    ['http://[fd00::12]:21114', { NO_PROXY: 'fd00::/8' }, false],
    ['http://[fe80::1]', { NO_PROXY: '[fd00::]/8' }, true],
    ['http://10.1.2.3', { NO_PROXY: 'fd00::/8' }, true],
    ['http://rd.example.com', { NO_PROXY: '10.0.0.0/8' }, true],
    ['http://10.1.2.3', { NO_PROXY: '10.0.0.0/33' }, true],
  ])('%s with %j: through the proxy = %s', (url, noProxy, through) => {
    expect(proxyFor(url, { ...P, ...noProxy }) !== undefined).toBe(through);
  });
});
