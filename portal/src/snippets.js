import { useState } from 'preact/hooks';
import { html } from './ui.js';

// Receivers verify with the Standard Webhooks libraries: the signature covers `id.timestamp.body`
// with the destination's whsec_ secret, and the libraries also refuse stale timestamps (replays).
const SNIPPETS = [
  {
    id: 'node',
    title: 'Node.js (npm install standardwebhooks)',
    code: `import express from 'express';
import { Webhook } from 'standardwebhooks';

const webhook = new Webhook(process.env.XT_SIGNING_SECRET); // whsec_…
const app = express();

// The raw body: verification covers the exact bytes sent.
app.post('/xt', express.raw({ type: 'application/json' }), (req, res) => {
  try {
    const event = webhook.verify(req.body.toString('utf8'), req.headers);
    // Deduplicate on req.headers['webhook-id'] (= event.event_id).
    console.log(event.event, event.event_id);
    res.sendStatus(204);
  } catch {
    res.sendStatus(400); // forged, or older than 5 minutes
  }
});
app.listen(4000);`,
  },
  {
    id: 'python',
    title: 'Python (pip install standardwebhooks)',
    code: `import os
from flask import Flask, request
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

webhook = Webhook(os.environ["XT_SIGNING_SECRET"])  # whsec_…
app = Flask(__name__)

@app.post("/xt")
def receive():
    try:
        event = webhook.verify(request.get_data(), dict(request.headers))
    except WebhookVerificationError:
        return "", 400  # forged, or older than 5 minutes
    # Deduplicate on request.headers["webhook-id"] (= event["event_id"]).
    print(event["event"], event["event_id"])
    return "", 204`,
  },
  {
    id: 'go',
    title: 'Go (go get github.com/standard-webhooks/standard-webhooks/libraries/go)',
    code: `package main

import (
	"io"
	"net/http"
	"os"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

func main() {
	wh, err := standardwebhooks.NewWebhook(os.Getenv("XT_SIGNING_SECRET")) // whsec_…
	if err != nil {
		panic(err)
	}
	http.HandleFunc("/xt", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil || wh.Verify(body, r.Header) != nil {
			w.WriteHeader(http.StatusBadRequest) // forged, or older than 5 minutes
			return
		}
		// Deduplicate on r.Header.Get("webhook-id").
		w.WriteHeader(http.StatusNoContent)
	})
	http.ListenAndServe(":4000", nil)
}`,
  },
];

function Snippet({ snippet }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    await navigator.clipboard.writeText(snippet.code);
    setCopied(true);
  };
  return html`<section class="snippet" aria-labelledby=${`snippet-${snippet.id}`}>
    <div class="heading">
      <h2 id=${`snippet-${snippet.id}`}>${snippet.title}</h2>
      <button type="button" onClick=${copy} aria-label=${`Copy the ${snippet.id} snippet`}>${copied ? 'Copied' : 'Copy'}</button>
    </div>
    <pre tabindex="0" aria-label=${`${snippet.id} verification code`}><code>${snippet.code}</code></pre>
  </section>`;
}

export function Snippets() {
  return html`<section aria-labelledby="verify-title">
    <h1 id="verify-title">Verify signatures</h1>
    <p>Every request carries <code>webhook-id</code>, <code>webhook-timestamp</code> and <code>webhook-signature</code> (Standard Webhooks). Verify them with the destination's signing secret (<code>whsec_…</code>) before trusting the body; during a secret rotation the signature header holds both signatures and either verifies.</p>
    ${SNIPPETS.map((snippet) => html`<${Snippet} snippet=${snippet} key=${snippet.id} />`)}
  </section>`;
}
