// Drives the npm eureka-js-client against our registry, unchanged:
//   node client.js SERVICE_URL INSTANCE_PORT
// SERVICE_URL carries the registry's credentials the way Eureka clients give
// them: http://user:password@host:port/eureka/apps/
// Prints one JSON line per event (registered, heartbeat, registryUpdated with
// what it discovered); deregisters on SIGTERM and exits 0.
const Eureka = require('eureka-js-client').Eureka;
const serviceUrl = process.argv[2];
const instancePort = Number(process.argv[3]);
const client = new Eureka({
  logger: { debug() {}, info() {}, warn() {}, error(...a) { console.error(...a); } },
  instance: {
    app: 'jsapp',
    instanceId: 'js-client-1',
    hostName: '127.0.0.1',
    ipAddr: '127.0.0.1',
    port: { $: instancePort, '@enabled': true },
    vipAddress: 'jsapp',
    statusPageUrl: `http://127.0.0.1:${instancePort}/info`,
    dataCenterInfo: { '@class': 'com.netflix.appinfo.InstanceInfo$MyDataCenterInfo', name: 'MyOwn' },
    metadata: { language: 'javascript' },
  },
  eureka: {
    serviceUrls: { default: [serviceUrl] },
    heartbeatInterval: 500, registryFetchInterval: 500, maxRetries: 3, requestRetryDelay: 200,
  },
});
const say = (event, extra) => console.log(JSON.stringify({ event, ...extra }));
client.on('registered', () => say('registered'));
client.on('heartbeat', () => say('heartbeat'));
client.on('registryUpdated', () => {
  const orders = client.getInstancesByAppId('ORDER-SERVICE') || [];
  say('registryUpdated', { orderService: orders.map((i) => `${i.hostName}:${i.port.$}`) });
});
client.start((err) => say('started', { error: err ? String(err) : null }));
process.on('SIGTERM', () => client.stop(() => { say('deregistered'); process.exit(0); }));
