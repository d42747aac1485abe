// The no-op the click benchmark divides by: one HTTP function that reads the request body and answers
// 200, served by the same local host (dev/host-cli.ts --app) with the same host.json as the app. It is
// never part of the deployed function table. CommonJS, as the host loads bundles with `require`.
exports.functionTable = [
  {
    name: "noop",
    kind: "http",
    route: "noop",
    methods: ["POST"],
    authLevel: "anonymous",
    handler: async (request) => {
      await request.text();
      return { status: 200 };
    },
  },
];
