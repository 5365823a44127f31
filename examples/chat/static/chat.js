// falcon-pachinko chat: plain JavaScript, no build step.
// Protocol (see /asyncapi.json): the client sends {"type": "say"|"rename"|"typing", ...}
// to /ws/chat/{room}?name=...; the server answers with a "welcome" and then room events.
"use strict";

const $ = (id) => document.getElementById(id);
const ROOM = /^[a-z0-9][a-z0-9_-]{0,31}$/;
const TYPING_SEND_EVERY = 3000;   // ms between "still typing" frames
const TYPING_IDLE = 4000;         // ms without a key press: "stopped typing"
const TYPING_SHOWN = 6000;        // ms a typing indicator stays without news
const BACKOFF_MIN = 500, BACKOFF_MAX = 15000;

// The session survives a reload (sessionStorage is per tab): rejoin as before.
const session = JSON.parse(sessionStorage.getItem("chat") || "null");
let ws = null, me = null, room = null, wanted = null;
let attempt = 0, retryTimer = null, leaving = false;
let typingSent = 0, typingIdle = null;
const typists = new Map();  // name -> timeout id

function setStatus(state, text) { const s = $("status"); s.dataset.state = state; s.textContent = text; }

function wsUrl(roomName, name) {
  // wss:// when the page came over HTTPS (a proxy terminating TLS), ws:// otherwise.
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${location.host}/ws/chat/${encodeURIComponent(roomName)}?name=${encodeURIComponent(name)}`;
}

function line(cls, build) {
  const li = document.createElement("li"); if (cls) li.className = cls; build(li);
  const log = $("log"); log.appendChild(li); log.scrollTop = log.scrollHeight; return li;
}
function sys(text) { line("sys", (li) => { li.textContent = text; }); }
function said(m) {
  line(m.name === me ? "mine" : "", (li) => {
    const t = document.createElement("time"); t.textContent = new Date(m.at * 1000).toLocaleTimeString();
    const who = document.createElement("span"); who.className = "who"; who.textContent = m.name;
    li.append(t, who, " ", m.text);
  });
}
function members(names) {
  const ul = $("members"); ul.replaceChildren();
  for (const n of names) {
    const li = document.createElement("li"); li.textContent = n; li.dataset.name = n;
    if (n === me) li.className = "me"; ul.appendChild(li);
  }
}
let errorTimer = null;
function showError(text) {
  const e = $("error"); e.textContent = text; e.hidden = false;
  clearTimeout(errorTimer); errorTimer = setTimeout(() => { e.hidden = true; }, 8000);
}
function renderTyping() {
  const names = [...typists.keys()];
  $("typing").textContent = names.length === 0 ? "" :
    names.length === 1 ? `${names[0]} is typing…` : `${names.slice(0, -1).join(", ")} and ${names.at(-1)} are typing…`;
}
function typing(name, active) {
  clearTimeout(typists.get(name)); typists.delete(name);
  if (active) typists.set(name, setTimeout(() => { typists.delete(name); renderTyping(); }, TYPING_SHOWN));
  renderTyping();
}

const handlers = {
  welcome(m) {
    attempt = 0; me = m.name; room = m.room;
    sessionStorage.setItem("chat", JSON.stringify({ name: me, room }));
    if (location.hash !== `#${room}`) history.replaceState(null, "", `#${room}`);
    $("log").replaceChildren(); typists.clear(); renderTyping();
    m.history.forEach(said);
    sys(`You joined #${room} as ${me}.`);
    $("me").textContent = me; $("room-title").textContent = `#${room}`; members(m.members);
    setStatus("open", "connected");
  },
  said,
  joined(m) { sys(`${m.name} joined.`); members(m.members); },
  left(m) { sys(`${m.name} left.`); typing(m.name, false); members(m.members); },
  renamed(m) {
    if (m.old === me) { me = m.name; $("me").textContent = me; sessionStorage.setItem("chat", JSON.stringify({ name: me, room })); }
    sys(`${m.old} is now ${m.name}.`); typing(m.old, false); members(m.members);
  },
  typing(m) { typing(m.name, m.active); },
  presence(m) { $("presence").textContent = `${m.count} here · ${m.online} online in ${m.rooms} room${m.rooms === 1 ? "" : "s"}`; },
  notice(m) { sys(m.text); },
  error(m) { showError(m.detail); },
};

function send(frame) {
  if (!ws || ws.readyState !== WebSocket.OPEN) { showError("Not connected: the message was not sent."); return false; }
  ws.send(JSON.stringify(frame)); return true;
}

function connect() {
  clearTimeout(retryTimer);
  const socket = new WebSocket(wsUrl(room, me || wanted));
  ws = socket;
  setStatus("connecting", "connecting…");
  socket.onmessage = (e) => {
    const m = JSON.parse(e.data);
    (handlers[m.type] || ((x) => console.warn("unknown frame", x)))(m);
  };
  socket.onclose = (e) => {
    if (ws !== socket) return;  // replaced by a newer socket
    ws = null;
    if (leaving) return;
    // Reconnect with exponential backoff and jitter; the welcome resets it.
    const delay = Math.min(BACKOFF_MAX, BACKOFF_MIN * 2 ** attempt) * (0.5 + Math.random() / 2);
    attempt += 1;
    setStatus("reconnecting", `reconnecting in ${Math.ceil(delay / 1000)} s (code ${e.code})`);
    retryTimer = setTimeout(connect, delay);
  };
}

function join(name, roomName) {
  leaving = false; wanted = name; me = null; room = roomName; attempt = 0;
  $("join").hidden = true; $("chat").hidden = false;
  connect();
  $("text").focus();
}

function leave() {
  leaving = true; clearTimeout(retryTimer);
  if (ws) ws.close(1000);
  ws = null; me = null; sessionStorage.removeItem("chat");
  setStatus("idle", "not connected");
  $("chat").hidden = true; $("join").hidden = false;
}

$("join").onsubmit = (e) => {
  e.preventDefault();
  const name = $("join-name").value.trim(), roomName = $("join-room").value.trim().toLowerCase();
  if (!name) { $("join-name").setCustomValidity("Pick a name"); $("join-name").reportValidity(); return; }
  if (!ROOM.test(roomName)) { $("join-room").reportValidity(); return; }
  join(name, roomName);
};
$("join-name").oninput = () => $("join-name").setCustomValidity("");
$("leave").onclick = leave;
$("rename").onsubmit = (e) => {
  e.preventDefault();
  if (send({ type: "rename", name: $("rename-name").value })) $("rename-name").value = "";
};
$("say").onsubmit = (e) => {
  e.preventDefault();
  const input = $("text");
  if (!input.value.trim()) return;
  if (send({ type: "say", text: input.value })) {
    input.value = ""; clearTimeout(typingIdle);
    if (typingSent) { typingSent = 0; send({ type: "typing", active: false }); }
  }
};
$("text").oninput = () => {
  const now = Date.now();
  if (now - typingSent > TYPING_SEND_EVERY && send({ type: "typing", active: true })) typingSent = now;
  clearTimeout(typingIdle);
  typingIdle = setTimeout(() => { if (typingSent) { typingSent = 0; send({ type: "typing", active: false }); } }, TYPING_IDLE);
};
// Close cleanly on unload so the server frees the name before the page comes
// back (browsers allow only 1000 and 3000-4999 here); a page restored from the
// back/forward cache reconnects.
window.addEventListener("pagehide", () => { if (ws) { const s = ws; ws = null; s.close(1000); } });
window.addEventListener("pageshow", (e) => { if (e.persisted && room && !leaving) connect(); });

// A reload rejoins the same room under the same name; #room pre-fills the form.
const hashRoom = decodeURIComponent(location.hash.slice(1));
if (ROOM.test(hashRoom)) $("join-room").value = hashRoom;
if (session && session.name && ROOM.test(session.room)) join(session.name, session.room);
else $("join-name").focus();
