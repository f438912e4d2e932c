// A front end the way the README tells one to talk to the API, from its
// own origin: fetch with a bearer token for GraphQL, multipart uploads
// and downloads; graphql-transport-ws for live updates. The test drives
// it through window.app and reads what it shows.
'use strict';

const api = new URLSearchParams(location.search).get('api');
let token = '';

function show(line) {
  const li = document.createElement('li');
  li.textContent = line;
  document.getElementById('log').appendChild(li);
}

function headers(extra) {
  return Object.assign({
    // What Apollo Client and OpenTelemetry's fetch instrumentation add.
    'apollographql-client-name': 'browser-test',
    'apollographql-client-version': '1.0.0',
    traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
  }, token ? { Authorization: 'Bearer ' + token } : {}, extra || {});
}

async function gql(query, variables) {
  const res = await fetch(api + '/graphql', {
    method: 'POST',
    headers: headers({ 'Content-Type': 'application/json' }),
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

window.app = {
  async login(login, password) {
    const d = await gql('mutation($l: String!, $p: String!) { loginPatient(login: $l, password: $p) { token } }', { l: login, p: password });
    token = d.loginPatient.token;
    show('signed in');
    return true;
  },

  async searchDoctors(specialty) {
    const d = await gql('query($s: String) { doctors(near: {lat: -23.55, lng: -46.63}, withinKm: 50, specialty: $s, first: 10) { edges { node { id name } } } }', { s: specialty });
    const names = d.doctors.edges.map((e) => e.node.name);
    show('doctors: ' + names.join(', '));
    return names;
  },

  // The GraphQL multipart request spec, as apollo-upload-client sends it.
  async upload(name, text) {
    const form = new FormData();
    form.append('operations', JSON.stringify({
      query: 'mutation($f: Upload!, $in: RecordFileInput!) { uploadRecordFile(file: $f, input: $in) { id title downloadUrl } }',
      variables: { f: null, in: { title: name, category: 'EXAM', tags: ['browser'] } },
    }));
    form.append('map', JSON.stringify({ 0: ['variables.f'] }));
    form.append('0', new Blob([text], { type: 'text/plain' }), name);
    const res = await fetch(api + '/graphql', { method: 'POST', headers: headers({ 'Apollo-Require-Preflight': 'true' }), body: form });
    const body = await res.json();
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    show('uploaded ' + body.data.uploadRecordFile.title);
    return body.data.uploadRecordFile;
  },

  async invoices() {
    const d = await gql('{ invoices { edges { node { id number receiptUrl } } } }');
    return d.invoices.edges.map((e) => e.node);
  },

  // A download the app keeps in memory (an in-app viewer, or a Blob URL
  // for a save link): it must read the body and the file name.
  async download(url) {
    const res = await fetch(url, { headers: headers() });
    const bytes = new Uint8Array(await res.arrayBuffer());
    const head = String.fromCharCode(...bytes.slice(0, 16));
    show('downloaded ' + url.replace(api, '') + ': ' + res.status);
    return {
      status: res.status,
      type: res.headers.get('Content-Type'),
      disposition: res.headers.get('Content-Disposition'),
      requestId: res.headers.get('X-Request-Id'),
      size: bytes.length,
      head,
    };
  },

  events: [],

  // Opens a socket, subscribes, and resolves once the server acknowledged
  // the subscription's connection; events land in app.events.
  subscribe(query) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(api.replace(/^http/, 'ws') + '/graphql', 'graphql-transport-ws');
      ws.onopen = () => ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: 'Bearer ' + token } }));
      ws.onerror = () => reject(new Error('websocket error'));
      ws.onclose = (e) => show('socket closed ' + e.code);
      ws.onmessage = (m) => {
        const msg = JSON.parse(m.data);
        if (msg.type === 'connection_ack') {
          ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query } }));
          setTimeout(() => resolve(true), 500);
        } else if (msg.type === 'next') {
          app.events.push(msg.payload);
          show('live: ' + JSON.stringify(msg.payload.data));
        } else if (msg.type === 'error') {
          app.events.push({ errors: msg.payload });
        } else if (msg.type === 'ping') {
          ws.send(JSON.stringify({ type: 'pong' }));
        }
      };
    });
  },
};
