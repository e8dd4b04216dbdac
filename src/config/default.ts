/**
 * The configuration bbwatch runs with when given none: the console adapter watching CPython's
 * public master, state in ./bbwatch.sqlite. Kept as YAML so it reads like examples/cpython.yaml.
 */
export const DEFAULT_CONFIG_YAML = `
masters:
  - name: cpython
    url: https://buildbot.python.org/all/
    stream: auto
storage: ./bbwatch.sqlite
chat:
  console: true
notify:
  - to: console
    events: [failure, infra]
permissions:
  operate: [console]
  force: [console]
`;
