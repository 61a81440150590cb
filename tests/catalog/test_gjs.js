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

print(`1..${results.length}`);
results.forEach(([ok, name, message], i) => {
    print(`${ok ? 'ok' : 'not ok'} ${i + 1} - ${name}`);
    if (message)
        message.split('\n').forEach(line => print(`# ${line}`));
});
System.exit(results.every(([ok]) => ok) ? 0 : 1);
