// The Functions host loads this one module (package.json "main"); each import registers its functions.
import "./resource-events.js";
import "./alert-outbox.js";
import "./manual.js";
import "./sweep.js";
import "./spikes.js";
import "./proposals.js";
import "./approval-page.js";
