#!/usr/bin/env python3
"""Writes the hand-made seed inputs of each harness into corpus/<harness>/.

Idempotent: run again after changing a seed here. Inputs that crashed a
harness once are added to the same folders by hand (named crash-*), and
every `bazel test` replays them all.
"""
import base64, json, os, sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def write(harness, name, data):
    d = os.path.join(HERE, "corpus", harness)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def b64url(obj):
    raw = json.dumps(obj, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


order = {"customerId": "alice", "items": [{"sku": "SKU-1", "quantity": 2}],
         "contact": {"email": "alice@example.com", "phone": "+4915112345678"}}

# http_request_fuzzer
req = "http_request_fuzzer"
write(req, "get_products", "GET /api/products?q=a%20b&x=1 HTTP/1.1\r\nHost: gw\r\nX-Echo: hi\r\n\r\n")
body = json.dumps(order)
write(req, "post_order", "POST /api/orders HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer alice\r\n"
      "Content-Type: application/json\r\nContent-Length: %d\r\nX-Request-Id: r-1\r\n\r\n%s" % (len(body), body))
write(req, "chunked_put", "PUT /api/products/alice HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer alice\r\n"
      "Transfer-Encoding: chunked\r\n\r\n5\r\n{\"a\":\r\n2\r\n1}\r\n0\r\n\r\n")
write(req, "pipelined", "GET /api/orders/o-1 HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer bob\r\n\r\n"
      "DELETE /api/products/p HTTP/1.1\r\nHost: gw\r\n\r\nGET /nope HTTP/1.0\r\n\r\n")
write(req, "odd_method", "BREW /api/products HTTP/1.1\r\nHost: gw\r\ntraceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n"
      "X-Correlation-Id: c-1\r\n\r\n")

# http_response_fuzzer (first byte: bit 0 set = HEAD)
res = "http_response_fuzzer"
write(res, "ok", b"\x00HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n{\"a\":1}")
write(res, "chunked", b"\x00HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nTrailer: x\r\n\r\n")
write(res, "continue", b"\x00HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n")
write(res, "head", b"\x01HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n")
write(res, "close_delimited", b"\x00HTTP/1.0 503 Service Unavailable\r\nRetry-After: 1\r\n\r\nbusy")

# url_fuzzer
url = "url_fuzzer"
write(url, "url", "http://127.0.0.1:8080/api/orders?a=b%20c&d=%E2%82%AC")
write(url, "ipv6", "http://[::1]:8761/eureka/apps/ORDER-SERVICE")
write(url, "basic", "Basic " + base64.b64encode(b"eureka:eureka-secret").decode())
write(url, "traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
write(url, "form", "grant_type=password&username=alice&password=a+b%2Bc")

# events_fuzzer: the golden envelopes (events/testdata/golden_v1.txt: "<type> <hex>")
with open(os.path.join(REPO, "events", "testdata", "golden_v1.txt")) as f:
    for line in f:
        parts = line.split()
        if len(parts) == 2:
            write("events_fuzzer", parts[0], bytes.fromhex(parts[1]))

# eureka_fuzzer
inst = {"instance": {"instanceId": "h:order-service:8081", "hostName": "127.0.0.1", "app": "ORDER-SERVICE",
                     "ipAddr": "127.0.0.1", "status": "UP", "port": {"$": 8081, "@enabled": "true"},
                     "securePort": {"$": 443, "@enabled": "false"}, "vipAddress": "order-service",
                     "homePageUrl": "http://127.0.0.1:8081/", "healthCheckUrl": "http://127.0.0.1:8081/actuator/health",
                     "dataCenterInfo": {"@class": "com.netflix.appinfo.InstanceInfo$MyDataCenterInfo", "name": "MyOwn"},
                     "leaseInfo": {"renewalIntervalInSecs": 30, "durationInSecs": 90},
                     "metadata": {"version": "1.2.3", "management.port": "8081"}, "lastDirtyTimestamp": "1700000000000"}}
write("eureka_fuzzer", "register", json.dumps(inst))
inst["instance"]["metadata"] = {"a<b": "x&y", "zone": "<z>"}
write("eureka_fuzzer", "odd_metadata", json.dumps(inst))

# request_body_fuzzer (first byte: 0 order, 1 product, 2 balance, 3 deposit, 4 list query, 5 token form)
rb = "request_body_fuzzer"
write(rb, "order", b"\x00" + json.dumps(order).encode())
write(rb, "product", b"\x01" + json.dumps({"name": "Mug", "priceCents": 899, "available": 3}).encode())
write(rb, "balance", b"\x02" + json.dumps({"balanceCents": 10000}).encode())
write(rb, "deposit", b"\x03" + json.dumps({"amountCents": 500}).encode())
write(rb, "list", b"\x04limit=10&cursor=o123&status=CONFIRMED")
write(rb, "token_password", b"\x05grant_type=password&username=alice&password=alice-secret&scope=openid")
write(rb, "token_client", b"\x05grant_type=client_credentials\nBasic " + base64.b64encode(b"order-service:s3cret"))

# jwt_fuzzer (first byte even: a token; odd: a JWKS document)
header = {"alg": "ES256", "kid": "ec-1", "typ": "JWT"}
claims = {"iss": "http://identity-service:8085", "aud": "order-platform", "sub": "alice", "exp": 4102444800,
          "roles": ["customer"], "customer_id": "alice"}
write("jwt_fuzzer", "token", b"\x00" + (b64url(header) + "." + b64url(claims) + "." + "A" * 86).encode())
write("jwt_fuzzer", "none", b"\x00" + (b64url({"alg": "none"}) + "." + b64url(claims) + ".").encode())
write("jwt_fuzzer", "jwks", b"\x01" + json.dumps({"keys": [{"kty": "EC", "crv": "P-256", "kid": "k", "use": "sig", "alg": "ES256",
    "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}).encode())

# config_fuzzer
write("config_fuzzer", "service", "server: {port: 8081, threads: 4, engine: asio, max-connections: 100}\n"
      "mysql: {host: 127.0.0.1, port: 3306, database: order_db, user: order, password: secret}\n"
      "kafka: {bootstrap.servers: 'localhost:9092', consumer: {session-timeout: 10s}}\n"
      "eureka: {client: {service-url: {defaultZone: 'http://eureka:pw@localhost:8761/eureka'}}}\n"
      "resilience:\n  circuitbreaker:\n    instances:\n      inventory: {failure-rate-threshold: 25, wait-duration-in-open-state: 5s}\n")
write("config_fuzzer", "anchors", "a: &x {b: 1}\nc: *x\nserver:\n  port: '80'\n")
print("seeds written under", os.path.join(HERE, "corpus"))
