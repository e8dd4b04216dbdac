/** bbwatch's version; a unit test keeps it equal to package.json's. */
export const VERSION = '0.1.0';
export const USER_AGENT = `bbwatch/${VERSION} (Buildbot chat-ops bot; Node.js ${process.versions.node})`;
