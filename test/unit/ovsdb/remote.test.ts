import assert from "node:assert/strict";
import { test } from "node:test";
import { parseRemote, parseRemoteList, RemoteError } from "../../../src/ovsdb/transport/remote.ts";

test("parses the remote forms OVS and OVN write", () => {
  assert.deepEqual(parseRemote("unix:/var/run/ovn/ovnsb_db.sock"), {
    kind: "unix",
    path: "/var/run/ovn/ovnsb_db.sock",
    text: "unix:/var/run/ovn/ovnsb_db.sock",
  });
  assert.deepEqual(parseRemote("tcp:192.0.2.10:6642"), {
    kind: "tcp",
    host: "192.0.2.10",
    port: 6642,
    text: "tcp:192.0.2.10:6642",
  });
  assert.deepEqual(parseRemote("ssl:[2001:db8::1]:6642"), {
    kind: "ssl",
    host: "2001:db8::1",
    port: 6642,
    text: "ssl:[2001:db8::1]:6642",
  });
  assert.equal((parseRemote("tcp:127.0.0.1") as { port: number }).port, 6640);
});

test("a clustered remote list keeps order and drops duplicates and empty entries", () => {
  const rs = parseRemoteList("tcp:127.0.0.1:1, tcp:127.0.0.1:2,,tcp:127.0.0.1:1,unix:/x");
  assert.deepEqual(
    rs.map((r) => r.text),
    ["tcp:127.0.0.1:1", "tcp:127.0.0.1:2", "unix:/x"],
  );
});

test("bad remotes fail with a message naming the remote", () => {
  for (const [bad, why] of [
    ["ptcp:6642", /listening/],
    ["tcp:::1:6642", /brackets/],
    ["tcp:host:99999", /port/],
    ["http://x", /expected unix/],
    ["unix:", /socket path/],
    ["tcp:[::1", /unterminated/],
    ["", /empty|expected/],
  ] as const) {
    assert.throws(
      () => parseRemoteList(bad),
      (e: unknown) => e instanceof RemoteError && why.test(e.message) && e.message.includes(`'${bad}'`),
      bad,
    );
  }
});
