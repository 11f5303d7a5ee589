import { render } from 'preact';
import { App } from './app';
import { storedSession, takeTokenFromFragment } from './session';
import './styles.css';

takeTokenFromFragment();
const root = document.getElementById('app');
if (root !== null) render(<App initial={storedSession()} />, root);
