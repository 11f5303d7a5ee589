import { render } from 'preact';
import { App, initialSession } from './app';
import { takeTokenFromFragment } from './session';
import './styles.css';

takeTokenFromFragment();
const root = document.getElementById('app');
if (root !== null) render(<App initial={initialSession()} />, root);
