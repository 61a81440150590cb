// test_gjs.js — libtvw from JavaScript: look a weight up, read its meta,
// build a model, run it.
//
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Run with gjs, the Tvw typelib on GI_TYPELIB_PATH.  Output is TAP.

imports.gi.versions.Tvw = '1.0';
const {GLib, GdkPixbuf, Tvw} = imports.gi;
const System = imports.system;

const results = [];

function check(name, fn) {
    try {
        fn();
        results.push([true, name, null]);
    } catch (e) {
        results.push([false, name, `${e}\n${e.stack ?? ''}`]);
    }
}

function assert(condition, message) {
    if (!condition)
        throw new Error(message ?? 'assertion failed');
}

check('look up ResNet18_Weights.DEFAULT and read its meta', () => {
    const w = Tvw.get_weight('ResNet18_Weights.DEFAULT');
    assert(w.get_full_name() === 'ResNet18_Weights.IMAGENET1K_V1', w.get_full_name());
    // The is-default property shadows is_default() in gjs.
    assert(w.is_default === true);
    const meta = w.get_meta().recursiveUnpack();
    assert(meta.num_params === 11689512, `num_params ${meta.num_params}`);
    assert(meta._metrics['ImageNet-1K']['acc@1'] === 69.758, JSON.stringify(meta._metrics));
    assert(meta.categories.length === 1000 && meta.categories[0] === 'tench');
    assert(w.get_categories().length === 1000);
    assert(w.get_num_classes() === 1000);
    const e = Tvw.get_model_weights('resnet18');
    assert(e.get_n_items() === 1 && e.get_item(0) === w, 'the enum lists the same object');
});

check('unknown names raise with a suggestion', () => {
    let message = null;
    try {
        Tvw.get_weight('ResNet18_Weights.IMAGENET1K_V2');
    } catch (e) {
        message = e.message;
    }
    assert(message !== null && message.includes('did you mean IMAGENET1K_V1'), message);
});

check('build resnet18 and run it on a preprocessed image', () => {
    const w = Tvw.get_weight('ResNet18_Weights.DEFAULT');
    const model = Tvw.get_model('resnet18', null, null);  // random parameters: no download
    const pixbuf = GdkPixbuf.Pixbuf.new(GdkPixbuf.Colorspace.RGB, false, 8, 320, 240);
    pixbuf.fill(0x3366ccff);
    const preprocess = w.transforms();
    const img = preprocess.apply_pixbuf(pixbuf);
    assert(img.get_n_dims() === 3, `${img.get_n_dims()} dims`);
    const batch = img.unsqueeze(0);
    const prediction = model.forward(batch, null).squeeze(0).softmax(0);
    assert(prediction.get_dim(0) === 1000, `${prediction.get_dim(0)} outputs`);
    const classId = prediction.argmax();
    const score = prediction.get_item(classId);
    assert(score > 0 && score <= 1, `score ${score}`);
    let sum = 0;
    for (let i = 0; i < 1000; i++)
        sum += prediction.get_item(i);
    assert(Math.abs(sum - 1) < 1e-4, `softmax sums to ${sum}`);
    print(`# ${w.get_categories()[classId]}: ${(100 * score).toFixed(3)}%`);
});

// Issue 20: the same essentials as the Python override's, from JavaScript.

check('every builder has its torchvision module (task)', () => {
    const counts = {};
    for (const name of Tvw.list_catalog_models(null, null)) {
        const task = Tvw.get_model_task(name);
        counts[task] = (counts[task] ?? 0) + 1;
    }
    // torchvision 0.14.1: 80 classification builders in torchvision.models,
    // 12 in .quantization, 12 in .detection, 6 in .segmentation, 6 in
    // .video, 2 in .optical_flow.
    const want = {classification: 80, quantization: 12, detection: 12, segmentation: 6, video: 6,
        optical_flow: 2};
    assert(JSON.stringify(counts, Object.keys(want)) === JSON.stringify(want), JSON.stringify(counts));
    assert(Tvw.get_model_task('quantized_resnet50') === 'quantization');
    let error = null;
    try {
        Tvw.get_model_task('resnet5');
    } catch (e) {
        error = e;
    }
    assert(error !== null && error.matches(Tvw.error_quark(), Tvw.Error.NOT_FOUND), `${error}`);
});

check('legacy pretrained=True entries and unquantized names', () => {
    assert(Tvw.get_legacy_weights('resnet50', false).get_full_name() === 'ResNet50_Weights.IMAGENET1K_V1');
    assert(Tvw.get_legacy_weights('regnet_y_128gf', false) === null);
    const q = Tvw.get_weight('ResNet50_QuantizedWeights.DEFAULT');
    const unquantized = q.get_meta().recursiveUnpack().unquantized;
    assert(unquantized === 'ResNet50_Weights.IMAGENET1K_V2', unquantized);
    assert(Tvw.get_weight(unquantized).get_meta().recursiveUnpack().num_params ===
        q.get_meta().recursiveUnpack().num_params);
});

check('an architecture libtvw cannot run is UNSUPPORTED, naming it', () => {
    let error = null;
    try {
        Tvw.get_model('raft_large', null, null);
    } catch (e) {
        error = e;
    }
    if (Tvw.is_model_supported('raft_large'))
        return;
    assert(error !== null && error.matches(Tvw.error_quark(), Tvw.Error.UNSUPPORTED), `${error}`);
    assert(error.message.includes('raft_large'), error.message);
});

check('no entry has _ops or _file_size in its meta (torchvision 0.14.1 has none)', () => {
    const enums = Tvw.get_weights_enums();
    let n = 0;
    for (let i = 0; i < enums.get_n_items(); i++) {
        const e = enums.get_item(i);
        for (let j = 0; j < e.get_n_items(); j++, n++) {
            const meta = e.get_item(j).get_meta().recursiveUnpack();
            assert(!('_ops' in meta) && !('_file_size' in meta), e.get_item(j).get_full_name());
        }
    }
    // torchvision's 162 entries and the embedded FASHIONMNIST_V1.
    assert(n === 163, `${n} entries`);
});

check('transform attributes like torchvision\'s presets', () => {
    const t = Tvw.get_weight('ResNet50_Weights.IMAGENET1K_V2').transforms();
    assert(t.crop_size === 224 && t.resize_size === 232, `${t.crop_size} ${t.resize_size}`);
    assert(JSON.stringify(t.get_crop_size()) === JSON.stringify([1, 224, 224]), `${t.get_crop_size()}`);
    assert(t.interpolation === Tvw.Interpolation.BILINEAR);
    const mean = t.mean.recursiveUnpack();
    assert(mean.length === 3 && Math.abs(mean[0] - 0.485) < 1e-12, `${mean}`);
    const video = Tvw.get_weight('R3D_18_Weights.DEFAULT').transforms();
    assert(JSON.stringify(video.get_resize_size()) === JSON.stringify([2, 128, 171]), `${video.get_resize_size()}`);
});

check('the OpticalFlow preset maps both images of a pair to [-1, 1]', () => {
    const t = Tvw.get_weight('Raft_Large_Weights.DEFAULT').transforms();
    const values = new Float32Array(48).map((_, i) => i / 47);
    const img = Tvw.Tensor.new_from_bytes(Tvw.DType.FLOAT32, [1, 3, 4, 4], new GLib.Bytes(new Uint8Array(values.buffer)));
    const [a, b] = [t.apply_tensor(img), t.apply_tensor(img)];
    assert(a.get_item(47) === 1 && b.get_item(0) === -1, `${a.get_item(47)} ${b.get_item(0)}`);
});

check('model parameters: names, shapes, and the meta\'s num_params', () => {
    const model = Tvw.get_model('resnet18', null, null);
    const names = model.list_parameters(false);
    assert(names.length === 62 && model.list_parameters(true).length === 122, `${names.length}`);
    let total = 0;
    for (const name of names)
        total += model.get_parameter_shape(name).reduce((a, b) => a * b, 1);
    assert(total === Tvw.get_weight('ResNet18_Weights.DEFAULT').get_meta().recursiveUnpack().num_params,
        `${total}`);
    assert(JSON.stringify(model.get_parameter_shape('fc.weight')) === '[1000,512]');
});

check('tensor.topk(k): values and indices, largest first', () => {
    // A tie in the first row: the lower index comes first, as in torch.
    const data = new Float32Array([3, 0.5, 3, 3, 2, 7]);
    const t = Tvw.Tensor.new_from_bytes(Tvw.DType.FLOAT32, [2, 3], new GLib.Bytes(new Uint8Array(data.buffer)));
    const [values, indices] = t.topk(2);
    assert(JSON.stringify(indices) === '[0,2,2,0]', JSON.stringify(indices));
    assert(values.get_item(0) === 3 && values.get_item(2) === 7, `${values.get_item(0)}`);
});

check('a detection from tensors: boxes as out parameters, int64 labels, render', () => {
    const f32 = (values, shape) => Tvw.Tensor.new_from_bytes(Tvw.DType.FLOAT32, shape,
        new GLib.Bytes(new Uint8Array(new Float32Array(values).buffer)));
    const labels = Tvw.Tensor.new_from_bytes(Tvw.DType.INT64, [1],
        new GLib.Bytes(new Uint8Array(new BigInt64Array([2n]).buffer)));
    const det = Tvw.Detection.new_from_tensors(16, 12, f32([1, 2, 9, 10], [1, 4]), labels,
        f32([0.75], [1]), null, null, null, ['__background__', 'person', 'bicycle'], null);
    assert(det.n_objects === 1 && det.get_category(0) === 'bicycle', det.get_category(0));
    assert(JSON.stringify(det.get_box(0)) === '[1,2,9,10]', JSON.stringify(det.get_box(0)));
    const image = GdkPixbuf.Pixbuf.new(GdkPixbuf.Colorspace.RGB, false, 8, 16, 12);
    image.fill(0);
    assert(det.render(image, 0.5).get_width() === 16);
    assert(det.filter(0.8).n_objects === 0);
});

print(`1..${results.length}`);
results.forEach(([ok, name, message], i) => {
    print(`${ok ? 'ok' : 'not ok'} ${i + 1} - ${name}`);
    if (message)
        message.split('\n').forEach(line => print(`# ${line}`));
});
System.exit(results.every(([ok]) => ok) ? 0 : 1);
