/** What an adapter needs to render messages: the model and its text helpers, nothing else of the core. */
export {
  cleanText,
  type Line,
  type Link,
  type Message,
  type Span,
  type StyledSpan,
  shorten,
  spanText,
  TONE_COLOUR,
  type Tone,
} from '../messages/message.js';
export { escapeHtml, safeHttpUrl, sanitizeText, stripControls } from '../messages/safe-text.js';
