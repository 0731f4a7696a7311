// Protocol v1 in the browser: one plain MessagePack map per binary WebSocket
// frame, both ways, with msgpackr's browser build (served at vendor/msgpackr.js).
const { Packr } = globalThis.msgpackr;
const packr = new Packr({ useRecords: false, mapsAsObjects: true });

export class Connection {
  /** @param {WebSocket} socket */
  constructor(socket) {
    this.socket = socket;
    /** @type {(message: any) => void} */
    this.onmessage = () => {};
    /** @type {(event: CloseEvent) => void} */
    this.onclose = () => {};
    socket.binaryType = 'arraybuffer';
    socket.onmessage = (event) => this.onmessage(packr.unpack(new Uint8Array(event.data)));
    socket.onclose = (event) => this.onclose(event);
  }

  /**
   * Opens a connection. Browsers cannot set headers on a WebSocket, so a token
   * travels as ?token=.
   * @param {string} url
   * @param {string} token
   * @returns {Promise<Connection>}
   */
  static open(url, token) {
    const address = new URL(url);
    if (token) address.searchParams.set('token', token);
    const socket = new WebSocket(address);
    return new Promise((resolve, reject) => {
      socket.onopen = () => resolve(new Connection(socket));
      socket.onerror = () => reject(new Error(`cannot connect to ${url}`));
    });
  }

  /** @param {Record<string, unknown>} message */
  send(message) {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(packr.pack(message));
  }

  get open() {
    return this.socket.readyState === WebSocket.OPEN;
  }

  close() {
    this.socket.close();
  }
}
