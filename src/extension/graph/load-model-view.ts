// Reads an .onnx file into a ModelView: structure only (skimModel), weights stay on disk until a node is inspected.
import { basename } from 'node:path';
import { ModelView } from '../../graphmodel/model-view';
import { DATA_LOCATION } from '../../onnx/proto';
import { skimModel } from '../../onnx/skim';

export interface LoadedView { view: ModelView; bytesRead: number }

export function loadModelView(path: string): LoadedView {
  const skimmed = skimModel(path);
  const hadExternalData = skimmed.model.graph?.initializer.some((t) => t.data_location === DATA_LOCATION.EXTERNAL) ?? false;
  const view = new ModelView(skimmed.model, { fileName: basename(path), fileBytes: skimmed.fileBytes, hadExternalData }, skimmed.data);
  // Build the default (folded) view model now, while the webview is still booting.
  view.graphs({ fold: true });
  return { view, bytesRead: skimmed.bytesRead };
}
