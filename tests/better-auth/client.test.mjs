// The official Better Auth client (better-auth 1.7.5 with its organization, jwt and api-key
// client plugins) against crow-server's auth service, unchanged. Run by the Rust test
// `better_auth::official_client_works_unchanged`, which starts the server and sets CROW_URL.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createAuthClient } from "better-auth/client";
import { jwtClient, organizationClient } from "better-auth/client/plugins";
import { apiKeyClient } from "@better-auth/api-key/client";
import { createLocalJWKSet, jwtVerify } from "jose";

const base = process.env.CROW_URL;
const serviceKey = process.env.CROW_SERVICE_API_KEY;
assert.ok(base, "CROW_URL must point at a running crow-server");
const ORIGIN = "http://localhost:3000";

// Node's fetch keeps no cookies: each client gets its own jar, like a browser profile.
function makeClient() {
  const jar = new Map();
  const customFetchImpl = async (url, init = {}) => {
    const headers = new Headers(init.headers);
    headers.set("origin", ORIGIN);
    if (jar.size) headers.set("cookie", [...jar].map(([k, v]) => `${k}=${v}`).join("; "));
    const response = await fetch(url, { ...init, headers });
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(";");
      const [name, value] = pair.split("=");
      const expired = attrs.some((a) => a.trim().toLowerCase() === "max-age=0");
      if (expired || !value) jar.delete(name.trim());
      else jar.set(name.trim(), value.trim());
    }
    return response;
  };
  const client = createAuthClient({
    baseURL: base,
    basePath: "/api/v1/auth",
    fetchOptions: { customFetchImpl },
    plugins: [organizationClient(), jwtClient(), apiKeyClient()],
  });
  return { client, jar };
}

const unique = Date.now().toString(36);
const adaEmail = `ada-${unique}@acme.io`;
const graceEmail = `grace-${unique}@acme.io`;
const password = "correct horse battery";

test("sign-up, session, organizations, JWT, API keys, invitations, sign-out", async () => {
  const { client: ada, jar } = makeClient();

  const signUp = await ada.signUp.email({ name: "Ada", email: adaEmail, password });
  assert.equal(signUp.error, null, JSON.stringify(signUp.error));
  assert.equal(signUp.data.user.email, adaEmail);
  assert.ok(signUp.data.token);
  assert.ok(jar.has("better-auth.session_token"), "the session cookie was set");

  const dup = await ada.signUp.email({ name: "Ada", email: adaEmail, password });
  assert.equal(dup.error.status, 422);
  assert.equal(dup.error.code, "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL");

  const badPassword = await ada.signIn.email({ email: adaEmail, password: "wrong password" });
  const unknownEmail = await ada.signIn.email({ email: `nobody-${unique}@acme.io`, password });
  assert.equal(badPassword.error.status, 401);
  assert.equal(badPassword.error.code, "INVALID_EMAIL_OR_PASSWORD");
  assert.deepEqual(
    { s: unknownEmail.error.status, c: unknownEmail.error.code, m: unknownEmail.error.message },
    { s: badPassword.error.status, c: badPassword.error.code, m: badPassword.error.message },
  );

  const signIn = await ada.signIn.email({ email: adaEmail, password });
  assert.equal(signIn.error, null);
  assert.equal(signIn.data.redirect, false);

  const session = await ada.getSession();
  assert.equal(session.error, null);
  assert.equal(session.data.user.email, adaEmail);
  assert.equal(session.data.session.activeOrganizationId, null);

  const org = await ada.organization.create({ name: "Acme", slug: `acme-${unique}` });
  assert.equal(org.error, null, JSON.stringify(org.error));
  assert.equal(org.data.members.length, 1);
  assert.equal(org.data.members[0].role, "owner");

  const list = await ada.organization.list();
  assert.ok(Array.isArray(list.data), "organization/list is a bare array");
  assert.equal(list.data[0].id, org.data.id);

  const active = await ada.organization.setActive({ organizationId: org.data.id });
  assert.equal(active.error, null);
  assert.equal(active.data.id, org.data.id);
  assert.equal((await ada.getSession()).data.session.activeOrganizationId, org.data.id);

  // A JWT for the session, verified with the published JWKS.
  const token = await ada.$fetch("/token", { method: "GET" });
  assert.equal(token.error, null);
  const jwks = await ada.jwks();
  assert.equal(jwks.error, null);
  const { payload, protectedHeader } = await jwtVerify(token.data.token, createLocalJWKSet(jwks.data), {
    issuer: "http://localhost:8080",
    audience: "http://localhost:8080",
    algorithms: ["EdDSA"],
  });
  assert.equal(protectedHeader.alg, "EdDSA");
  assert.ok(protectedHeader.kid);
  assert.equal(payload.sub, signUp.data.user.id);
  assert.equal(payload.organizationId, org.data.id);

  // API keys: create (full key once), list, verify as a service would, delete.
  const created = await ada.apiKey.create({ name: "ci" });
  assert.equal(created.error, null, JSON.stringify(created.error));
  assert.match(created.data.key, /^crow_sk_[0-9A-Za-z]{43}$/);
  const keys = await ada.apiKey.list();
  assert.equal(keys.data.total, 1);
  assert.equal(keys.data.apiKeys[0].id, created.data.id);
  assert.equal(keys.data.apiKeys[0].key, undefined, "the secret is never listed");
  const verify = async (key) =>
    (await fetch(`${base}/api/v1/auth/api-key/verify`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-service-api-key": serviceKey },
      body: JSON.stringify({ key }),
    })).json();
  const verified = await verify(created.data.key);
  assert.equal(verified.valid, true);
  assert.equal(verified.organizationId, org.data.id);
  assert.equal(verified.userId, signUp.data.user.id);
  const deleted = await ada.apiKey.delete({ keyId: created.data.id });
  assert.equal(deleted.error, null);
  assert.equal((await verify(created.data.key)).valid, false);

  // Invite a colleague, who signs up and accepts.
  const invitation = await ada.organization.inviteMember({ email: graceEmail, role: "member" });
  assert.equal(invitation.error, null, JSON.stringify(invitation.error));
  const { client: grace } = makeClient();
  assert.equal((await grace.signUp.email({ name: "Grace", email: graceEmail, password })).error, null);
  const accepted = await grace.organization.acceptInvitation({ invitationId: invitation.data.id });
  assert.equal(accepted.error, null, JSON.stringify(accepted.error));
  assert.equal(accepted.data.member.role, "member");
  const members = await ada.organization.listMembers();
  assert.equal(members.data.total, 2);
  assert.ok(members.data.members.some((m) => m.user.email === graceEmail));

  // Sign-out clears the cookie and ends the session.
  const out = await ada.signOut();
  assert.equal(out.error, null);
  assert.equal(out.data.success, true);
  assert.ok(!jar.has("better-auth.session_token"), "sign-out expired the cookie");
  assert.equal((await ada.getSession()).data, null);
});
