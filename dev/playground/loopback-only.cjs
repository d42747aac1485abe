// Preloaded into Microsoft 365 Agents Playground (node --require): its server calls listen(port) with
// no host, which binds every interface. Here a listen without a host binds loopback only.
const { Server } = require("node:net");

const listen = Server.prototype.listen;
Server.prototype.listen = function listenOnLoopback(...args) {
  const [first, second] = args;
  if (typeof first === "number" && (second === undefined || typeof second === "function")) {
    return listen.call(this, first, "127.0.0.1", ...args.slice(1));
  }
  if (first !== null && typeof first === "object" && !("path" in first) && first.host === undefined) {
    return listen.call(this, { ...first, host: "127.0.0.1" }, ...args.slice(1));
  }
  return listen.apply(this, args);
};
