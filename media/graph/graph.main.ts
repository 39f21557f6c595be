// Graph viewer webview entry point.
import './graph.css';
import { GraphApp } from './app/app';
import { connectHost } from './app/host';

const root = document.getElementById('app');
if (root) {
  const app = new GraphApp(root, connectHost(), root.dataset.worker ?? '');
  app.start();
}
